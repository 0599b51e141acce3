import type { Command } from '../main.js'
import type { FunctionView, InstanceSummary } from '../../api/index.js'
import type { StoredEvent } from '../../store/index.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, formatTable } from '../output.js'
import { UsageError } from '../../errors/index.js'
import { instanceRows, versionRows, type VersionItem } from './get.js'

export const command: Command = {
  summary: 'Show a function: spec, versions, instances and recent events.',
  usage: `Usage: roost describe function NAME [-n NS]

Flags:
  -n, --namespace   namespace (default: default)`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('describe', argv, { namespace: { type: 'string', short: 'n' } })
    const [kind, name] = positionals
    if (kind !== 'function' && kind !== 'functions' && kind !== 'fn') throw new UsageError(`describe what? "${kind ?? ''}" is not a kind roost describes`, { hint: 'e.g. `roost describe function hello`' })
    if (name === undefined) throw new UsageError('describe function needs a name', { hint: 'e.g. `roost describe function hello`' })
    const namespace = values.namespace ?? 'default'
    const client = connect()
    const base = `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`
    const fn = await client.get<FunctionView>(base)
    const [versions, instances, events] = await Promise.all([
      client.get<{ items: VersionItem[] }>(`${base}/versions`),
      client.get<{ items: InstanceSummary[] }>(`/apis/roost.dev/v1/instances?namespace=${namespace}`),
      client.get<{ items: StoredEvent[] }>(`${base}/events?limit=20`)
    ])
    const own = instances.items.filter((i) => i.function === name)
    process.stdout.write(describeFunction(fn, versions.items, own, events.items))
    return 0
  }
}

export function describeFunction (fn: FunctionView, versions: VersionItem[], instances: InstanceSummary[], events: StoredEvent[]): string {
  const spec = fn.spec
  const status = fn.status
  const ready = status.conditions.find((c) => c.type === 'Ready')
  const source = typeof spec.source === 'string' ? spec.source : `inline (${spec.source.loader})`
  const labels = Object.entries(fn.metadata.labels).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'
  const lines = [
    `Name:           ${fn.metadata.name}`,
    `Namespace:      ${fn.metadata.namespace}`,
    `Labels:         ${labels}`,
    `Created:        ${fn.metadata.creationTimestamp} (${age(fn.metadata.creationTimestamp)} ago)`,
    `Source:         ${source}`,
    `Routes:         /fn/${fn.metadata.name}.${fn.metadata.namespace}${fn.metadata.namespace === 'default' ? `, /fn/${fn.metadata.name}` : ''}${spec.http.path === undefined ? '' : `, ${spec.http.path}`}`,
    `Timeout:        ${spec.timeout}`,
    `Memory:         ${spec.memory}`,
    `Concurrency:    ${spec.concurrency} per instance`,
    `Scale:          min ${spec.scale.min}, max ${spec.scale.max}, ${spec.scale.metric} target ${spec.scale.target} at ${Math.round(spec.scale.utilization * 100)}%, window ${spec.scale.window}, scale-down delay ${spec.scale.scaleDownDelay}`,
    `Env:            ${Object.keys(spec.env).length === 0 ? '<none>' : Object.keys(spec.env).join(', ')}`,
    `Latest:         v${status.latestVersion}`,
    `Traffic:        ${status.traffic.map((t) => `v${t.version} ${t.percent}%${t.tag === undefined ? '' : ` (tag ${t.tag})`}`).join(', ')}`,
    `Instances:      ${status.instances.ready} ready, ${status.instances.starting} starting, ${status.instances.draining} draining`,
    `Ready:          ${ready === undefined ? 'Unknown' : `${ready.status} (${ready.reason}: ${ready.message})`}`,
    '',
    'Versions:',
    indent(formatTable(['VERSION', 'TRAFFIC', 'TAG', 'BUNDLE', 'TIMEOUT', 'MEMORY', 'CONCURRENCY', 'AGE'], versionRows(versions))),
    'Instances:',
    instances.length === 0 ? '  <none>\n' : indent(formatTable(['ID', 'FUNCTION', 'VERSION', 'STATE', 'PID', 'PORT', 'AGE'], instanceRows(instances))),
    'Events:',
    events.length === 0
      ? '  <none>\n'
      : indent(formatTable(['AGE', 'TYPE', 'REASON', 'MESSAGE'], events.map((e) => [age(e.time), e.type, e.reason, e.message])))
  ]
  return lines.join('\n')
}

function indent (text: string): string {
  return text.split('\n').map((line) => line === '' ? line : `  ${line}`).join('\n')
}
