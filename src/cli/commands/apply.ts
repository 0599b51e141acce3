import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { inlineKeysFile } from '../keys-file.js'
import { bundleFor, inNamespace, located, readManifests, type LoadedManifest, type LoadedRule } from '../manifest-files.js'
import { outputFormat, printData } from '../output.js'
import { StartFailedError, TimeoutError, UsageError } from '../../errors/index.js'
import { DURATION_PATTERN, parseDuration } from '../../api/quantities.js'
import { ruleResourceOf, type FunctionView, type RuleView } from '../../api/index.js'
import { referencesOf, rulePath, STRATEGY_KINDS } from '../../governance/index.js'
import type { ApiClient } from '../client.js'

interface ApplyResponse { result: string, version: number, newVersion: boolean }

/** What `PUT …?dryRun=All` answers: what would happen, and the resource as it would be stored. */
export interface DryRunResponse extends ApplyResponse {
  dryRun: true
  bundleHash: string
  manifest: { metadata: { name: string, namespace: string, labels: Record<string, string> }, spec: unknown }
}

export const command: Command = {
  summary: 'Build and deploy functions from YAML manifests.',
  usage: `Usage: roost apply -f FILE|DIR|- [-n NS] [--dry-run=server] [--wait [--timeout 60s]] [-o json|yaml]

Each Function document is validated, its source built with esbuild (TypeScript,
ESM or CJS, npm dependencies from the package.json beside it), and sent to the
platform; OpenSergo rules (RateLimitStrategy, ThrottlingStrategy,
ConcurrencyLimitStrategy, CircuitBreakerStrategy, HttpRequestFallbackAction,
FaultToleranceRule, TrafficLabelRule) in the same files are validated and sent
too, strategies and fallbacks first. A rule that names something its namespace
does not hold is applied, with a warning naming what is missing. A change of code or configuration makes a new immutable version that
takes the traffic; an unchanged manifest makes none. Traffic moves to a new
version once it has a ready instance (the old one serves until then); --wait
returns only when every applied function serves as applied.

Flags:
  -f, --filename   manifest file, folder of manifests, or - for standard input (repeatable)
  -n, --namespace  namespace of the documents that name none (one that names another is an error)
      --dry-run    server: the platform validates and builds everything and says what would
                   happen (created, configured or unchanged, and the version), storing nothing
      --wait       wait until the traffic is routed as applied
      --timeout    how long --wait waits (default 60s)
  -o, --output     json or yaml: print the results for machines`,

  async run (argv) {
    const { values } = parseCommandArgs('apply', argv, {
      filename: { type: 'string', short: 'f', multiple: true },
      output: { type: 'string', short: 'o' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'dry-run': { type: 'string' }
    })
    const dryRun = dryRunMode(values['dry-run'])
    const targets = values.filename ?? []
    const timeout = values.timeout ?? '60s'
    if (!new RegExp(DURATION_PATTERN).test(timeout)) throw new UsageError(`--timeout ${timeout} is not a duration`, { hint: 'e.g. --timeout 30s or --timeout 2m' })
    if (targets.length === 0) throw new UsageError('apply needs -f FILE, DIR or -', { hint: 'e.g. `roost apply -f roost.yaml`' })
    const format = outputFormat(values.output)
    // Everything is read, validated and built before the platform is contacted.
    const prepared = await prepareFiles(targets, values.namespace)
    for (const line of crossNamespaceWarnings(prepared.manifests)) warn(line)
    const client = connect()
    const print = format === 'table' ? (line: string) => process.stdout.write(line + '\n') : () => {}
    if (dryRun) {
      const answers = await dryRunPrepared(client, prepared)
      for (const answer of answers) print(dryRunLine(answer))
      if (format !== 'table') printData(format, answers)
      return 0
    }
    const results = await sendPrepared(client, prepared, print)
    if (values.wait === true) {
      for (const manifest of prepared.manifests) {
        if (manifest.type === 'function') await waitRolledOut(client, manifest.resource.metadata.namespace, manifest.resource.metadata.name, parseDuration(timeout), print)
      }
    }
    if (format !== 'table') printData(format, results)
    return 0
  }
}

export interface Prepared {
  manifests: LoadedManifest[]
  bundles: Array<{ code: string } | undefined>
}

/** What the platform answered for one function document. */
export type FunctionApplied = { type: 'function', function: string, namespace: string } & ApplyResponse
/** What the platform answered for one rule document; its problems are names that resolve to nothing. */
export interface RuleApplied { type: 'rule', kind: string, name: string, namespace: string, result: string, problems: RuleView['status']['problems'] }
export type Applied = FunctionApplied | RuleApplied

/** Validates and builds everything first, then applies document by document. */
export async function applyFiles (client: ApiClient, targets: string[], print: (line: string) => void): Promise<Applied[]> {
  return await sendPrepared(client, await prepareFiles(targets), print)
}

export async function prepareFiles (targets: string[], namespace?: string): Promise<Prepared> {
  const manifests = inNamespace(targets.flatMap((target) => readManifests(target)), namespace)
  for (const manifest of manifests) inlineKeysFile(manifest)
  const bundles = await Promise.all(manifests.map(async (manifest) => await bundleFor(manifest)))
  return { manifests, bundles }
}

/**
 * Strategies and fallback actions go first, so that the rules after them in
 * the same apply find what they name; otherwise the order of the files.
 */
function applyOrder ({ manifests, bundles }: Prepared): Array<{ manifest: LoadedManifest, bundle: { code: string } | undefined }> {
  const named = (m: LoadedManifest): boolean => m.type === 'rule' && m.resource.kind !== 'FaultToleranceRule' && m.resource.kind !== 'TrafficLabelRule'
  const entries = manifests.map((manifest, i) => ({ manifest, bundle: bundles[i] }))
  return [...entries.filter((e) => named(e.manifest)), ...entries.filter((e) => !named(e.manifest))]
}

async function sendPrepared (client: ApiClient, prepared: Prepared, print: (line: string) => void): Promise<Applied[]> {
  const results: Applied[] = []
  for (const { manifest, bundle } of applyOrder(prepared)) {
    if (manifest.type === 'rule') {
      results.push(await sendRule(client, manifest, print))
      continue
    }
    const { name, namespace } = manifest.resource.metadata
    // The platform's refusals name the document too, as the local checks do.
    const response = await located(manifest.where, async () => await client.put<ApplyResponse>(
      `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`,
      { manifest: manifest.doc, bundle }
    ), manifest.whereField)
    print(`function/${name} ${response.result}${response.newVersion ? ` (v${response.version})` : ''}`)
    results.push({ type: 'function', function: name, namespace, ...response })
  }
  return results
}

async function sendRule (client: ApiClient, manifest: LoadedRule, print: (line: string) => void): Promise<RuleApplied> {
  const { kind, metadata: { name, namespace } } = manifest.resource
  const response = await located(manifest.where, async () => await client.put<{ result: string, rule: RuleView }>(rulePath(kind, namespace, name), { manifest: manifest.doc }), manifest.whereField)
  print(`${kind.toLowerCase()}/${name} ${response.result}`)
  for (const problem of response.rule.status.problems) warn(`${manifest.where}: ${kind.toLowerCase()}/${name}: ${problem.message}`)
  return { type: 'rule', kind, name, namespace, result: response.result, problems: response.rule.status.problems }
}

/**
 * Rules find what they name in their own namespace. A file that puts a rule
 * in one namespace and what it names in another (a document without
 * metadata.namespace goes to -n or default) applies, but the rule would
 * report the names missing: say so before anything is sent, with the fix.
 */
export function crossNamespaceWarnings (manifests: LoadedManifest[]): string[] {
  const rules = manifests.filter((m) => m.type === 'rule')
  const warnings: string[] = []
  for (const rule of rules) {
    const { namespace, name } = rule.resource.metadata
    for (const ref of referencesOf(ruleResourceOf(rule.resource))) {
      const candidates = rules.filter((m) => m.resource.metadata.name === ref.name && (ref.kind === undefined ? STRATEGY_KINDS.includes(m.resource.kind as never) : m.resource.kind === ref.kind))
      if (candidates.length === 0 || candidates.some((m) => m.resource.metadata.namespace === namespace)) continue
      const elsewhere = candidates[0] as LoadedRule
      warnings.push(`${rule.where}: ${rule.resource.kind.toLowerCase()}/${name} (namespace ${namespace}) names ${ref.name} at ${ref.field}, which ${elsewhere.where} puts in namespace ${elsewhere.resource.metadata.namespace}; ` +
        `a rule finds what it names in its own namespace: apply with -n ${namespace}, or give ${ref.name} metadata.namespace: ${namespace}`)
    }
  }
  return warnings
}

function warn (line: string): void {
  process.stderr.write(`warning: ${line}\n`)
}

function dryRunMode (value: string | undefined): boolean {
  if (value === undefined || value === 'none') return false
  if (value === 'server') return true
  throw new UsageError(`--dry-run=${value} is not supported`, { hint: 'use --dry-run=server: the platform checks and builds everything and stores nothing' })
}

export type FunctionDryRun = { type: 'function', function: string, namespace: string, where: string } & DryRunResponse
export interface RuleDryRun { type: 'rule', kind: string, name: string, namespace: string, where: string, result: string, rule: RuleView }
export type DryRun = FunctionDryRun | RuleDryRun

/** Asks the platform what each document would do; nothing is stored. */
export async function dryRunPrepared (client: ApiClient, prepared: Prepared): Promise<DryRun[]> {
  const answers: DryRun[] = []
  for (const { manifest, bundle } of applyOrder(prepared)) {
    if (manifest.type === 'rule') {
      const { kind, metadata: { name, namespace } } = manifest.resource
      const answer = await located(manifest.where, async () => await client.put<{ result: string, rule: RuleView }>(`${rulePath(kind, namespace, name)}?dryRun=All`, { manifest: manifest.doc }), manifest.whereField)
      answers.push({ type: 'rule', kind, name, namespace, where: manifest.where, result: answer.result, rule: answer.rule })
      continue
    }
    const { name, namespace } = manifest.resource.metadata
    const answer = await located(manifest.where, async () => await client.put<DryRunResponse>(
      `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}?dryRun=All`,
      { manifest: manifest.doc, bundle }
    ), manifest.whereField)
    answers.push({ type: 'function', function: name, namespace, where: manifest.where, ...answer })
  }
  return answers
}

function dryRunLine (answer: DryRun): string {
  if (answer.type === 'rule') {
    const problems = answer.rule.status.problems.length
    return `${answer.kind.toLowerCase()}/${answer.name} ${answer.result} (server dry run; nothing stored${problems === 0 ? '' : `; ${problems} problem(s): ${answer.rule.status.problems.map((p) => p.message).join('; ')}`})`
  }
  const version = answer.newVersion ? `would make v${answer.version}` : `v${answer.version} stays`
  return `function/${answer.function} ${answer.result} (server dry run: ${version}; nothing stored)`
}

const WAIT_POLL_MS = 100

/** Polls the function until its RolledOut condition holds (the traffic serves as applied), or a wanted version cannot start. */
async function waitRolledOut (client: ApiClient, namespace: string, name: string, timeoutMs: number, print: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const fn = await client.get<FunctionView>(`/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`)
    const rolledOut = fn.status.conditions.find((c) => c.type === 'RolledOut')
    if (rolledOut === undefined || rolledOut.status === 'True') {
      print(`function/${name} serving ${fn.status.serving.filter((t) => t.percent > 0).map((t) => `v${t.version} ${t.percent}%`).join(', ')}`)
      return
    }
    const describe = `\`roost describe function ${name}${namespace === 'default' ? '' : ` -n ${namespace}`}\``
    if (rolledOut.reason === 'StartFailed') {
      throw new StartFailedError(`function/${name} is not serving as applied: ${rolledOut.message}`, {
        hint: `fix the function and apply again; \`roost logs ${name}\` has the stack, ${describe} the events`
      })
    }
    if (Date.now() >= deadline) {
      throw new TimeoutError(`function/${name} is not serving as applied after ${timeoutMs / 1000}s: ${rolledOut.message}`, {
        hint: `${describe} shows its instances and events`
      })
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS))
  }
}
