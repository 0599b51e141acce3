import { stringify } from 'yaml'
import type { Command } from '../command.js'
import type { FunctionView, RuleView } from '../../api/index.js'
import { rulePath, type RuleKind } from '../../governance/index.js'
import { parseCommandArgs } from '../args.js'
import type { ApiClient } from '../client.js'
import { connect } from '../config.js'
import { unifiedDiff } from '../unified-diff.js'
import { ApiError, UsageError } from '../../errors/index.js'
import { dryRunPrepared, prepareFiles, type DryRunResponse, type RuleDryRun } from './apply.js'
import type { VersionItem } from './get.js'

export const command: Command = {
  summary: 'Show what apply would change, as a unified diff; exit 1 when something would.',
  usage: `Usage: roost diff -f FILE|DIR|- [-n NS]

Every document is validated and built, and the platform checks it as apply
would (a server dry run) without storing anything. The diff is of the stored
function (metadata, spec with its defaults, and the sha256 of its latest
bundle), or rule (metadata and spec), against what applying the file would store. As kubectl diff: exit 0
when nothing would change, 1 when something would, 2 or more on an error.

Flags:
  -f, --filename    manifest file, folder of manifests, or - for standard input (repeatable)
  -n, --namespace   namespace of the documents that name none`,
  errorExitCode: 2,

  async run (argv) {
    const { values } = parseCommandArgs('diff', argv, {
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' }
    })
    const targets = values.filename ?? []
    if (targets.length === 0) throw new UsageError('diff needs -f FILE, DIR or -', { hint: 'e.g. `roost diff -f roost.yaml`' })
    const prepared = await prepareFiles(targets, values.namespace)
    const client = connect()
    const answers = await dryRunPrepared(client, prepared)
    let different = false
    for (const answer of answers) {
      if (answer.type === 'rule') {
        const text = await ruleDiff(client, answer)
        if (text === '') continue
        different = true
        process.stdout.write(text)
        continue
      }
      const live = await liveDocument(client, answer.namespace, answer.function)
      const next = documentText(answer.manifest, answer.bundleHash)
      const text = unifiedDiff(live?.text ?? '', next, {
        from: `function/${answer.function} (${answer.namespace}, ${live === undefined ? 'absent' : `live, v${live.version}`})`,
        to: `function/${answer.function} (${answer.namespace}, ${answer.where}${answer.newVersion ? `, would make v${answer.version}` : ''})`
      })
      if (text === '') continue
      different = true
      process.stdout.write(text)
    }
    return different ? 1 : 0
  }
}

/** The stored rule against what applying it would store; '' when they are the same. */
async function ruleDiff (client: ApiClient, answer: RuleDryRun): Promise<string> {
  const kind = answer.kind as RuleKind
  let live: RuleView | undefined
  try {
    live = await client.get<RuleView>(rulePath(kind, answer.namespace, answer.name))
  } catch (err) {
    if (!(err instanceof ApiError && err.problem.status === 404)) throw err
  }
  const label = `${kind.toLowerCase()}/${answer.name}`
  return unifiedDiff(live === undefined ? '' : ruleText(live), ruleText(answer.rule), {
    from: `${label} (${answer.namespace}, ${live === undefined ? 'absent' : 'live'})`,
    to: `${label} (${answer.namespace}, ${answer.where})`
  })
}

function ruleText (rule: RuleView): string {
  const { name, namespace, labels } = rule.metadata
  return stringify({ apiVersion: rule.apiVersion, kind: rule.kind, metadata: { name, namespace, labels }, spec: rule.spec }, { sortMapEntries: true })
}

/** The stored function as the diff shows it, or undefined when there is none. */
async function liveDocument (client: ApiClient, namespace: string, name: string): Promise<{ text: string, version: number } | undefined> {
  const base = `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`
  let fn: FunctionView
  try {
    fn = await client.get<FunctionView>(base)
  } catch (err) {
    if (err instanceof ApiError && err.problem.status === 404) return undefined
    throw err
  }
  const { items } = await client.get<{ items: VersionItem[] }>(`${base}/versions`)
  const latest = items[items.length - 1]
  return {
    text: documentText({ metadata: { name, namespace, labels: fn.metadata.labels }, spec: fn.spec }, latest?.bundleHash ?? ''),
    version: latest?.number ?? 0
  }
}

// The bundle's hash stands for the code: a change of source shows as a change of this line.
function documentText (resource: DryRunResponse['manifest'], bundleHash: string): string {
  return stringify({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: resource.metadata, spec: resource.spec }, { sortMapEntries: true }) + `# bundle: sha256:${bundleHash}\n`
}
