import type { Command } from '../command.js'
import type { FunctionView, InstanceSummary } from '../../api/index.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, outputFormat, printData, printTable } from '../output.js'
import { UsageError } from '../../errors/index.js'

export interface VersionItem {
  number: number
  bundleHash: string
  config: { timeoutMs: number, memoryMiB: number, concurrency: number, env: Record<string, string> }
  createdAt: string
  traffic: number
  tag: string | null
}

const KINDS: Record<string, 'functions' | 'versions' | 'instances'> = {
  function: 'functions', functions: 'functions', fn: 'functions',
  version: 'versions', versions: 'versions',
  instance: 'instances', instances: 'instances'
}

export const command: Command = {
  summary: 'List functions, versions or instances.',
  usage: `Usage: roost get functions [-n NS | -A] [-o json|yaml]
       roost get versions NAME [-n NS] [-o json|yaml]
       roost get instances [-n NS | -A] [-o json|yaml]

Flags:
  -n, --namespace        namespace (default: default)
  -A, --all-namespaces   every namespace the token may see
  -o, --output           json or yaml instead of a table`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('get', argv, {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' }
    })
    const kind = KINDS[positionals[0] ?? '']
    if (kind === undefined) throw new UsageError(`get what? "${positionals[0] ?? ''}" is not functions, versions or instances`, { hint: 'e.g. `roost get functions`' })
    const format = outputFormat(values.output)
    const namespace = values.namespace ?? 'default'
    const all = values['all-namespaces'] === true
    const client = connect()

    if (kind === 'functions') {
      const path = all ? '/apis/roost.dev/v1/functions' : `/apis/roost.dev/v1/namespaces/${namespace}/functions`
      const { items } = await client.get<{ items: FunctionView[] }>(path)
      if (format !== 'table') return printData(format, items), 0
      printTable(
        ['NAME', 'NAMESPACE', 'LATEST', 'TRAFFIC', 'READY', 'AGE'],
        items.map((fn) => [
          fn.metadata.name,
          fn.metadata.namespace,
          `v${fn.status.latestVersion}`,
          fn.status.traffic.map((t) => `v${t.version}:${t.percent}%${t.tag === undefined ? '' : `(${t.tag})`}`).join(','),
          `${fn.status.instances.ready}/${fn.status.instances.ready + fn.status.instances.starting}`,
          age(fn.metadata.creationTimestamp)
        ]),
        all ? 'No functions found.' : `No functions found in ${namespace} namespace.`
      )
      return 0
    }

    if (kind === 'versions') {
      const name = positionals[1]
      if (name === undefined) throw new UsageError('get versions needs the function\'s name', { hint: 'e.g. `roost get versions hello`' })
      const { items } = await client.get<{ items: VersionItem[] }>(`/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}/versions`)
      if (format !== 'table') return printData(format, items), 0
      printTable(['VERSION', 'TRAFFIC', 'TAG', 'BUNDLE', 'TIMEOUT', 'MEMORY', 'CONCURRENCY', 'AGE'], versionRows(items), `${name} has no versions.`)
      return 0
    }

    const query = all ? '' : `?namespace=${encodeURIComponent(namespace)}`
    const { items } = await client.get<{ items: InstanceSummary[] }>(`/apis/roost.dev/v1/instances${query}`)
    if (format !== 'table') return printData(format, items), 0
    printTable(INSTANCE_COLUMNS, instanceRows(items), 'No instances running.')
    return 0
  }
}

export function versionRows (items: VersionItem[]): string[][] {
  return items.map((v) => [
    `v${v.number}`,
    `${v.traffic}%`,
    v.tag ?? '',
    v.bundleHash.slice(0, 12),
    `${v.config.timeoutMs / 1000}s`,
    `${v.config.memoryMiB}Mi`,
    String(v.config.concurrency),
    age(v.createdAt)
  ])
}

export const INSTANCE_COLUMNS = ['ID', 'FUNCTION', 'VERSION', 'STATE', 'IN-FLIGHT', 'PID', 'PORT', 'AGE']

export function instanceRows (items: InstanceSummary[]): string[][] {
  return items.map((i) => [i.id, `${i.function}.${i.namespace}`, `v${i.version}`, i.state, String(i.inFlight ?? 0), String(i.pid ?? ''), String(i.port), age(i.startedAt)])
}
