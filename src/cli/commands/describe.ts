import type { Command } from '../command.js'
import type { EventItem, FunctionGovernanceView, FunctionView, InstanceSummary, RuleView } from '../../api/index.js'
import { describeConditions, describeFallback, describeRetry, describeRoutes, describeStrategy, ruleKindNamed, rulePath, summarizeRule, type RuleKind } from '../../governance/index.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, formatTable, outputFormat, printData } from '../output.js'
import { stringify } from 'yaml'
import { UsageError } from '../../errors/index.js'
import { INSTANCE_COLUMNS, instanceRows, routesOf, ruleResource, ruleStatusWord, versionRows, type VersionItem } from './get.js'
import type { ApiClient } from '../client.js'

const FUNCTION_KINDS = new Set(['function', 'functions', 'fn'])

export const command: Command = {
  summary: 'Show a function (spec, governance, versions, instances, events) or a governance rule (status, problems, spec).',
  usage: `Usage: roost describe [function] NAME [-n NS] [-o json|yaml]
       roost describe KIND NAME [-n NS] [-o json|yaml]   (a rule kind: ratelimitstrategy, ftr, tlr, ...)

A function's Governance section lists every rule that applies to it (its own
spec.governance and the OpenSergo rules that select its app label), as the
gateway applies them, and the problems found; a rule's, what it applies to and
what it names that does not exist.

Flags:
  -n, --namespace   namespace (default: default)
  -o, --output      json or yaml: the function, its governance, versions, instances and events as one object`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('describe', argv, { namespace: { type: 'string', short: 'n' }, output: { type: 'string', short: 'o' } })
    const format = values.output === undefined ? 'table' : outputFormat(values.output)
    const namespace = values.namespace ?? 'default'
    const ruleKind = positionals.length >= 2 ? ruleKindNamed(positionals[0] as string) : undefined
    if (ruleKind !== undefined) return await describeRuleCommand(connect(), ruleKind, positionals, namespace, format)
    const name = functionName(positionals)
    const client = connect()
    const base = `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`
    const fn = await client.get<FunctionView>(base)
    const [versions, instances, events, governance] = await Promise.all([
      client.get<{ items: VersionItem[] }>(`${base}/versions`),
      client.get<{ items: InstanceSummary[] }>(`/apis/roost.dev/v1/instances?namespace=${namespace}`),
      client.get<{ items: EventItem[] }>(`${base}/events?limit=20`),
      client.get<FunctionGovernanceView>(`${base}/governance`)
    ])
    const own = instances.items.filter((i) => i.function === name)
    if (format !== 'table') return printData(format, { function: fn, governance, versions: versions.items, instances: own, events: events.items }), 0
    process.stdout.write(describeFunction(fn, versions.items, own, events.items, governance))
    return 0
  }
}

/** `describe function NAME`, or `describe NAME` as the only kind is a function. */
function functionName (positionals: string[]): string {
  const [first, second, ...rest] = positionals
  if (first === undefined) throw new UsageError('describe needs a function name', { hint: 'e.g. `roost describe hello`' })
  const name = FUNCTION_KINDS.has(first) ? second : first
  if (name === undefined) throw new UsageError(`describe ${first} needs a name`, { hint: 'e.g. `roost describe function hello`' })
  if ((FUNCTION_KINDS.has(first) ? rest : [second, ...rest]).some((extra) => extra !== undefined)) {
    throw new UsageError(`describe takes one name, got ${positionals.join(' ')}`, { hint: 'e.g. `roost describe hello`; `roost get functions` lists several' })
  }
  return name
}

export function describeFunction (fn: FunctionView, versions: VersionItem[], instances: InstanceSummary[], events: EventItem[], governance?: FunctionGovernanceView): string {
  const spec = fn.spec
  const status = fn.status
  const ready = status.conditions.find((c) => c.type === 'Ready')
  const rolledOut = status.conditions.find((c) => c.type === 'RolledOut')
  const source = typeof spec.source === 'string' ? spec.source : `inline (${spec.source.loader})`
  const labels = Object.entries(fn.metadata.labels).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'
  const lines = [
    `Name:           ${fn.metadata.name}`,
    `Namespace:      ${fn.metadata.namespace}`,
    `Labels:         ${labels}`,
    `Created:        ${fn.metadata.creationTimestamp} (${age(fn.metadata.creationTimestamp)} ago)`,
    `Source:         ${source}`,
    `Routes:         ${routesOf(fn).join(', ')}`,
    `Timeout:        ${spec.timeout}`,
    `Memory:         ${spec.memory}`,
    `Concurrency:    ${spec.concurrency} per instance`,
    `Scale:          min ${spec.scale.min}, max ${spec.scale.max}, ${scaleMetrics(spec.scale)} at ${Math.round(spec.scale.utilization * 100)}%, window ${spec.scale.window}, scale-down delay ${spec.scale.scaleDownDelay}`,
    ...(spec.scale.schedule ?? []).map((entry, i) => `${i === 0 ? 'Schedule:       ' : '                '}min ${entry.min} from "${entry.cron}" until ${entry.until} (${entry.timezone ?? 'UTC'})`),
    `Env:            ${Object.keys(spec.env).length === 0 ? '<none>' : Object.keys(spec.env).join(', ')}`,
    `Latest:         v${status.latestVersion}`,
    `Traffic:        ${status.traffic.map((t) => `v${t.version} ${t.percent}%${t.tag === undefined ? '' : ` (tag ${t.tag})`}`).join(', ')}`,
    `Serving:        ${(status.serving ?? status.traffic).filter((t) => t.percent > 0).map((t) => `v${t.version} ${t.percent}%`).join(', ')}${rolledOut === undefined || rolledOut.status === 'True' ? '' : ` (${rolledOut.message})`}`,
    `Instances:      ${status.instances.desired} desired, ${status.instances.ready} ready, ${status.instances.starting} starting, ${status.instances.draining} draining`,
    `Ready:          ${ready === undefined ? 'Unknown' : `${ready.status} (${ready.reason}: ${ready.message})`}`,
    ...isolationLines(status.isolation),
    '',
    ...(governance === undefined ? [] : ['Governance:', governanceSection(governance)]),
    ...triggersSection(spec, status),
    'Versions:',
    indent(formatTable(['VERSION', 'TRAFFIC', 'TAG', 'BUNDLE', 'TIMEOUT', 'MEMORY', 'CONCURRENCY', 'AGE'], versionRows(versions))),
    'Instances:',
    instances.length === 0 ? '  <none>\n' : indent(formatTable(INSTANCE_COLUMNS, instanceRows(instances))),
    'Scaling:',
    scalingSection(status),
    'Events:',
    events.length === 0
      ? '  <none>\n'
      : indent(formatTable(['AGE', 'TYPE', 'REASON', 'MESSAGE'], events.map((e) => [age(e.time), e.type, e.reason, e.message])))
  ]
  return lines.join('\n')
}

/** The queue and cron triggers, with each broker trigger's condition. */
function triggersSection (spec: FunctionView['spec'], status: FunctionView['status']): string[] {
  const triggers = spec.triggers ?? []
  if (triggers.length === 0) return []
  const rows = triggers.map((trigger) => {
    if ('cron' in trigger) return ['cron', trigger.cron.schedule, '', '', '', '']
    const q = trigger.queue
    const condition = status.triggers?.find((c) => c.queue === q.name)
    if (condition === undefined) return ['queue', q.name, 'embedded', '', '', '']
    return ['queue', q.name, `${condition.connector} ${condition.url}`, condition.status === 'True' ? 'Connected' : condition.reason, condition.backlog === null ? '' : String(condition.backlog), condition.message]
  })
  return ['Triggers:', indent(formatTable(['KIND', 'NAME', 'CONNECTOR', 'STATE', 'BACKLOG', 'MESSAGE'], rows))]
}

function isolationLines (isolation: FunctionView['status']['isolation']): string[] {
  if (isolation === undefined) return []
  return [`Isolation:      ${isolation.mode}`, ...isolation.details.map((line) => `                ${line}`)]
}

function scaleMetrics (scale: FunctionView['spec']['scale']): string {
  return (scale.metrics ?? [{ metric: scale.metric, target: scale.target }]).map((m) => `${m.metric} target ${m.target}`).join(' and ')
}

// Like `kubectl describe hpa`: per version, what the autoscaler wants, what runs, and why.
function scalingSection (status: FunctionView['status']): string {
  const versions = status.versions ?? []
  if (versions.length === 0) return '  <none>\n'
  const rows = versions.map((v) => [
    `v${v.version}`,
    String(v.desired),
    String(v.ready),
    String(v.starting),
    String(v.draining),
    String(Math.round(v.observed.concurrency * 10) / 10),
    String(Math.round(v.observed.rps * 10) / 10),
    v.panic ? 'yes' : 'no',
    v.lastScale === null ? '' : `${age(v.lastScale.time)} ago: ${v.lastScale.message}`
  ])
  return indent(formatTable(['VERSION', 'DESIRED', 'READY', 'STARTING', 'DRAINING', 'CONCURRENCY', 'RPS', 'PANIC', 'LAST DECISION'], rows))
}

function indent (text: string): string {
  return text.split('\n').map((line) => line === '' ? line : `  ${line}`).join('\n')
}

/** Every rule that applies, as compiled: routes, strategies, fallbacks per cause; then retries, lanes, where they came from and what is wrong. */
export function governanceSection (governance: FunctionGovernanceView): string {
  const { policy, problems, sources } = governance
  const rules = policy.rules.length === 0
    ? '  Rules:      <none>\n'
    : indent(formatTable(['RULE', 'ROUTES', 'STRATEGIES', 'FALLBACKS'], policy.rules.map((rule) => [
      rule.id,
      describeRoutes(rule),
      rule.strategies.map((s) => describeStrategy(s)).join('; ') || '<none>',
      Object.entries(rule.fallbacks).map(([cause, fallback]) => `${cause}: ${describeFallback(fallback)}`).join('; ') || '<none>'
    ])))
  const lines = [
    rules.trimEnd(),
    `  Retries:    ${describeRetry(policy.retry)}`,
    `  Lanes:      ${policy.lanes.length === 0 ? '<none>' : ''}`.trimEnd(),
    ...policy.lanes.map((lane) => `    ${lane.lane} when ${describeConditions(lane)} (${lane.id})`),
    `  Caller:     ${policy.auth.mode}`,
    `  From:       ${sources.length === 0 ? '<none>' : sources.map((s) => s.field === undefined ? `${s.kind}/${s.name}` : `${s.field}`).join(', ')}`,
    `  Problems:   ${problems.length === 0 ? '<none>' : ''}`.trimEnd(),
    ...problems.map((p) => `    ${p.rule}: ${p.message}`),
    ...liveLines(governance.live)
  ]
  return lines.join('\n') + '\n'
}

/** The gateway's live view of each rule: limiter fill, breaker state and why, concurrency in flight. */
function liveLines (live: FunctionGovernanceView['live']): string[] {
  if (live === undefined) return []
  const rows: string[][] = []
  for (const rule of live.rules) {
    for (const limit of rule.rateLimits) {
      const fill = limit.remaining === null ? `${limit.keys ?? 0} keys tracked` : `${limit.remaining} of ${limit.limit} left`
      rows.push([rule.rule, `rate limit ${limit.name}`, `${fill} (${limit.limit}/${formatWindow(limit.windowMs)})`, `${rule.rejected} refused`])
    }
    for (const throttle of rule.throttles) {
      rows.push([rule.rule, `throttle ${throttle.name}`, throttle.queued === null ? `${throttle.keys ?? 0} keys tracked` : `${throttle.queued} queued`, `${rule.rejected} refused`])
    }
    for (const limit of rule.concurrency) rows.push([rule.rule, `concurrency ${limit.name}`, `${limit.inFlight} of ${limit.limit} in flight`, `${rule.rejected} refused`])
    for (const breaker of rule.breakers) {
      const window = breaker.window
      const probes = breaker.state === 'half-open' ? `, probes ${breaker.probes.succeeded}+${breaker.probes.inFlight} of ${breaker.probes.of}` : ''
      const ramp = breaker.rampPercent === null ? '' : `, ramping at ${breaker.rampPercent}%`
      rows.push([rule.rule, `breaker ${breaker.name}`, `${breaker.state}: ${breaker.reason}${probes}${ramp}`, `${window.calls} calls, ${window.errors} errors, ${window.slow} slow in ${formatWindow(window.windowMs)}`])
    }
  }
  const budget = live.retryBudget
  return [
    '  Live:',
    ...(rows.length === 0 ? ['    <no limiter or breaker>'] : indent(indent(formatTable(['RULE', 'STRATEGY', 'STATE', 'COUNTS'], rows))).trimEnd().split('\n')),
    `  Retry budget: ${budget.remaining} retries left now (${budget.retries} retries for ${budget.requests} requests lately)`
  ]
}

function formatWindow (ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

async function describeRuleCommand (client: ApiClient, kind: RuleKind, positionals: string[], namespace: string, format: 'table' | 'json' | 'yaml'): Promise<number> {
  const [word, name, ...rest] = positionals
  if (rest.length > 0) throw new UsageError(`describe takes one name, got ${positionals.join(' ')}`, { hint: `e.g. \`roost describe ${word as string} ${name as string}\`` })
  const rule = await client.get<RuleView>(rulePath(kind, namespace, name as string))
  if (format !== 'table') return printData(format, rule), 0
  process.stdout.write(describeRule(rule))
  return 0
}

export function describeRule (rule: RuleView): string {
  const labels = Object.entries(rule.metadata.labels).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'
  const lines = [
    `Name:           ${rule.metadata.name}`,
    `Namespace:      ${rule.metadata.namespace}`,
    `Kind:           ${rule.kind} (${rule.apiVersion})`,
    `Labels:         ${labels}`,
    `Created:        ${rule.metadata.creationTimestamp} (${age(rule.metadata.creationTimestamp)} ago)`,
    `Summary:        ${summarizeRule(ruleResource(rule))}`,
    `Status:         ${ruleStatusWord(rule)}`,
    `Applies to:     ${rule.status.functions.length === 0 ? '<none>' : rule.status.functions.join(', ')}`,
    '',
    'Conditions:',
    indent(formatTable(['TYPE', 'STATUS', 'REASON', 'MESSAGE'], rule.status.conditions.map((c) => [c.type, c.status, c.reason, c.message]))),
    'Problems:',
    rule.status.problems.length === 0 ? '  <none>\n' : rule.status.problems.map((p) => `  ${p.message}\n`).join(''),
    'Spec:',
    indent(stringify(rule.spec))
  ]
  return lines.join('\n')
}
