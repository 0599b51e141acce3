import { stringify } from 'yaml'
import type { Command } from '../command.js'
import type { FunctionView, InstanceSummary, QueueItem, RuleView, TriggerItem } from '../../api/index.js'
import { RULE_NAMES, ruleKindNamed, rulePath, summarizeRule, type RuleKind, type RuleResource } from '../../governance/index.js'
import type { EventItem } from '../../api/records.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { parseLabelSelector, type LabelSelector } from '../label-selector.js'
import { readLines } from '../ndjson.js'
import { age, formatTable, getFormat, printData, type GetFormat } from '../output.js'
import type { ApiClient } from '../client.js'
import { UsageError } from '../../errors/index.js'

export interface VersionItem {
  number: number
  bundleHash: string
  config: { timeoutMs: number, memoryMiB: number, concurrency: number, env: Record<string, string> }
  createdAt: string
  traffic: number
  tag: string | null
}

export interface NamespaceItem {
  kind: 'Namespace'
  metadata: { name: string, labels: Record<string, string>, creationTimestamp: string | null }
  status: { phase: string, functions: number, rules?: number, tokens: number }
}


type Kind = 'functions' | 'versions' | 'instances' | 'events' | 'namespaces' | 'secrets' | 'rules' | 'queues' | 'triggers'

const KINDS: Record<string, Kind> = {
  function: 'functions', functions: 'functions', fn: 'functions',
  version: 'versions', versions: 'versions',
  instance: 'instances', instances: 'instances',
  event: 'events', events: 'events', ev: 'events',
  namespace: 'namespaces', namespaces: 'namespaces', ns: 'namespaces',
  secret: 'secrets', secrets: 'secrets',
  rule: 'rules', rules: 'rules',
  queue: 'queues', queues: 'queues', q: 'queues',
  trigger: 'triggers', triggers: 'triggers'
}

const V1 = '/apis/roost.dev/v1'

/** How one kind prints: table columns (and the extra ones of -o wide) and its -o name. */
interface Printer<T> {
  columns: string[]
  wide: string[]
  row (item: T, wide: boolean): string[]
  name (item: T): string
}

export const command: Command = {
  summary: 'List functions, versions, instances, events, namespaces, secrets, governance rules, queues or triggers.',
  usage: `Usage: roost get functions [NAME...] [-n NS | -A] [-l SELECTOR] [-o FORMAT] [-w]
       roost get versions NAME [-n NS] [-o FORMAT]
       roost get instances [FUNCTION...] [-n NS | -A] [-o FORMAT]
       roost get events [NAME...] [-n NS | -A] [-o FORMAT]
       roost get namespaces [NAME...] [-l SELECTOR] [-o FORMAT]
       roost get secrets [NAME...] [-n NS | -A] [-o FORMAT]   (keys, never values)
       roost get rules [NAME...] [-n NS | -A] [-l SELECTOR] [-o FORMAT]   (every kind, with a KIND column)
       roost get queues [NAME...] [-n NS | -A] [-o FORMAT]    (depth, in work, dead, consumer)
       roost get triggers [FUNCTION...] [-n NS | -A] [-o FORMAT]   (each cron's last and next firing, each queue's backlog)
       roost get KIND [NAME...] [-n NS | -A] [-l SELECTOR] [-o FORMAT]

KIND is an OpenSergo kind, by plural, singular or short name:
ratelimitstrategies (rls), throttlingstrategies (throttling),
concurrencylimitstrategies (cls), circuitbreakerstrategies (cbs),
httprequestfallbackactions (fallbacks, hrfa), faulttolerancerules (ftr),
trafficlabelrules (tlr). A rule's STATUS is Unresolved while it names
something that does not exist (-o yaml shows what, under status.problems).

With NAMEs, only those; one NAME with -o json or yaml prints that object alone.
With -o jsonpath a list is { "kind": "List", "items": [...] }, as in kubectl.

Flags:
  -n, --namespace        namespace (default: default)
  -A, --all-namespaces   every namespace the token may see
  -l, --selector         label selector: app=web, tier!=db, 'env in (a,b)', 'env notin (a)', app, !app;
                         commas join requirements that must all hold
  -o, --output           wide | name | json | yaml | jsonpath=TEMPLATE (e.g. '{.items[*].metadata.name}')
  -w, --watch            functions only: after the list, print each change until interrupted
                         (-o json prints one JSON object per line)`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('get', argv, {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
      selector: { type: 'string', short: 'l' },
      watch: { type: 'boolean', short: 'w' }
    })
    const ruleKind = ruleKindNamed(positionals[0] ?? '')
    const kind = ruleKind === undefined ? KINDS[positionals[0] ?? ''] : 'rules'
    if (kind === undefined) {
      throw new UsageError(`get what? "${positionals[0] ?? ''}" is not functions, versions, instances, events, namespaces, secrets, rules, a rule kind, queues or triggers`, { hint: 'e.g. `roost get functions` or `roost get queues`' })
    }
    const names = positionals.slice(1)
    const format = getFormat(values.output)
    const selector = values.selector === undefined ? undefined : parseLabelSelector(values.selector)
    if (selector !== undefined && kind !== 'functions' && kind !== 'namespaces' && kind !== 'rules') throw new UsageError(`-l selects by labels, which ${kind} do not have`, { hint: 'use -l with `get functions`, `get namespaces` or `get rules`' })
    if (values.watch === true && kind !== 'functions') throw new UsageError(`-w watches functions only, not ${kind}`, { hint: 'e.g. `roost get functions -w`' })
    const scope: Scope = { namespace: values.namespace ?? 'default', all: values['all-namespaces'] === true }
    const client = connect()

    switch (kind) {
      case 'functions':
        if (values.watch === true) return await watchFunctions(client, scope, names, selector, format)
        return show(format, await functionsOf(client, scope, names, selector), names.length === 1, FUNCTIONS, noneFound('functions', scope))
      case 'versions': {
        const name = names[0]
        if (name === undefined) throw new UsageError('get versions needs the function\'s name', { hint: 'e.g. `roost get versions hello`' })
        const { items } = await client.get<{ items: VersionItem[] }>(`${V1}/namespaces/${scope.namespace}/functions/${name}/versions`)
        return show(format, items, false, versionPrinter(name), `${name} has no versions.`)
      }
      case 'instances': {
        const query = scope.all ? '' : `?namespace=${encodeURIComponent(scope.namespace)}`
        const { items } = await client.get<{ items: InstanceSummary[] }>(`${V1}/instances${query}`)
        return show(format, items.filter((i) => names.length === 0 || names.includes(i.function) || names.includes(i.id)), false, INSTANCES, 'No instances running.')
      }
      case 'events': {
        const { items } = await client.get<{ items: EventItem[] }>(scope.all ? `${V1}/events` : `${V1}/namespaces/${scope.namespace}/events`)
        return show(format, items.filter((e) => names.length === 0 || names.includes(e.name)), false, eventPrinter(scope.all), noneFound('events', scope))
      }
      case 'secrets': {
        const { items } = await client.get<{ items: SecretItem[] }>(scope.all ? `${V1}/secrets` : `${V1}/namespaces/${scope.namespace}/secrets`)
        return show(format, items.filter((s) => names.length === 0 || names.includes(s.metadata.name)), names.length === 1, SECRETS, noneFound('secrets', scope))
      }
      case 'rules': {
        const items = (await rulesOf(client, scope, ruleKind, names)).filter((r) => selector === undefined || selector.matches(r.metadata.labels))
        const what = ruleKind === undefined ? 'rules' : RULE_NAMES[ruleKind].plural
        return show(format, items, names.length === 1 && ruleKind !== undefined, rulePrinter(scope.all, ruleKind === undefined), noneFound(what, scope))
      }
      case 'queues': {
        const { items } = await client.get<{ items: QueueItem[] }>(scope.all ? `${V1}/queues` : `${V1}/namespaces/${scope.namespace}/queues`)
        return show(format, items.filter((q) => names.length === 0 || names.includes(q.name)), names.length === 1, queuePrinter(scope.all), noneFound('queues', scope))
      }
      case 'triggers': {
        const { items } = await client.get<{ items: TriggerItem[] }>(scope.all ? `${V1}/triggers` : `${V1}/namespaces/${scope.namespace}/triggers`)
        return show(format, items.filter((t) => names.length === 0 || names.includes(t.function)), false, triggerPrinter(scope.all), noneFound('triggers', scope))
      }
      case 'namespaces': {
        const items = names.length > 0
          ? await Promise.all(names.map(async (name) => await client.get<NamespaceItem>(`${V1}/namespaces/${name}`)))
          : (await client.get<{ items: NamespaceItem[] }>(`${V1}/namespaces`)).items
        return show(format, items.filter((ns) => selector === undefined || selector.matches(ns.metadata.labels)), names.length === 1, NAMESPACES, 'No namespaces found.')
      }
    }
  }
}

interface Scope { namespace: string, all: boolean }

function noneFound (what: string, scope: Scope): string {
  return scope.all ? `No ${what} found.` : `No ${what} found in ${scope.namespace} namespace.`
}

async function functionsOf (client: ApiClient, scope: Scope, names: string[], selector: LabelSelector | undefined): Promise<FunctionView[]> {
  const items = names.length > 0
    ? await Promise.all(names.map(async (name) => await client.get<FunctionView>(`${V1}/namespaces/${scope.namespace}/functions/${name}`)))
    : (await client.get<{ items: FunctionView[] }>(scope.all ? `${V1}/functions` : `${V1}/namespaces/${scope.namespace}/functions`)).items
  return items.filter((fn) => selector === undefined || selector.matches(fn.metadata.labels))
}

/** Rules of one kind, or of every kind; with NAMEs, only those (of one kind, each read by name). */
async function rulesOf (client: ApiClient, scope: Scope, kind: RuleKind | undefined, names: string[]): Promise<RuleView[]> {
  if (kind !== undefined && names.length > 0 && !scope.all) {
    return await Promise.all(names.map(async (name) => await client.get<RuleView>(rulePath(kind, scope.namespace, name))))
  }
  const path = kind === undefined
    ? (scope.all ? `${V1}/rules` : `${V1}/namespaces/${scope.namespace}/rules`)
    : rulePath(kind, scope.all ? undefined : scope.namespace)
  const { items } = await client.get<{ items: RuleView[] }>(path)
  return items.filter((r) => names.length === 0 || names.includes(r.metadata.name))
}

/** Prints items in the asked format; `single` prints the one object rather than a list. */
function show<T> (format: GetFormat, items: T[], single: boolean, printer: Printer<T>, empty: string): number {
  const data = single ? items[0] : items
  switch (format.kind) {
    case 'json':
    case 'yaml':
      printData(format.kind, data)
      break
    case 'jsonpath':
      process.stdout.write(format.template.render(single ? data : { kind: 'List', items }))
      break
    case 'name':
      for (const item of items) process.stdout.write(`${printer.name(item)}\n`)
      break
    default: {
      const wide = format.kind === 'wide'
      process.stdout.write(items.length === 0 ? `${empty}\n` : formatTable(header(printer, wide), items.map((item) => printer.row(item, wide))))
    }
  }
  return 0
}

function header<T> (printer: Printer<T>, wide: boolean): string[] {
  return wide ? [...printer.columns, ...printer.wide] : printer.columns
}

interface WatchLine { type: 'ADDED' | 'MODIFIED' | 'DELETED', object: FunctionView }

/** The list first, then a line per change, as `kubectl get -w` prints them. */
async function watchFunctions (client: ApiClient, scope: Scope, names: string[], selector: LabelSelector | undefined, format: GetFormat): Promise<number> {
  const path = scope.all ? `${V1}/watch/functions` : `${V1}/watch/namespaces/${scope.namespace}/functions`
  const response = await client.stream(path)
  const wide = format.kind === 'wide'
  const last = new Map<string, string>()
  let headerPrinted = false
  await readLines(response, (text) => {
    if (text.trim() === '') return
    const { object } = JSON.parse(text) as WatchLine
    if (names.length > 0 && !names.includes(object.metadata.name)) return
    if (selector !== undefined && !selector.matches(object.metadata.labels)) return
    process.stdout.write(watchText(format, object, wide, last, () => {
      if (headerPrinted) return ''
      headerPrinted = true
      return formatTable(header(FUNCTIONS, wide), []).trimEnd() + '\n'
    }))
  })
  return 0
}

function watchText (format: GetFormat, fn: FunctionView, wide: boolean, last: Map<string, string>, headerOnce: () => string): string {
  switch (format.kind) {
    case 'json': return JSON.stringify(fn) + '\n'
    case 'yaml': return `---\n${stringify(fn)}`
    case 'jsonpath': return format.template.render(fn)
    case 'name': return `${FUNCTIONS.name(fn)}\n`
    default: {
      // A table row prints only when what it shows changed; columns keep the widths of the header.
      const row = FUNCTIONS.row(fn, wide)
      const key = `${fn.metadata.namespace}/${fn.metadata.name}`
      const text = row.join('\u0000')
      if (last.get(key) === text) return ''
      last.set(key, text)
      const widths = header(FUNCTIONS, wide).map((h) => h.length)
      return headerOnce() + row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(Math.max(widths[i] + 3, cell.length + 3))).join('').trimEnd() + '\n'
    }
  }
}

const FUNCTIONS: Printer<FunctionView> = {
  columns: ['NAME', 'NAMESPACE', 'LATEST', 'TRAFFIC', 'READY', 'AGE'],
  wide: ['SERVING', 'ROUTES', 'SCALE', 'LABELS'],
  row (fn, wide) {
    const status = fn.status
    const cells = [
      fn.metadata.name,
      fn.metadata.namespace,
      `v${status.latestVersion}`,
      status.traffic.map((t) => `v${t.version}:${t.percent}%${t.tag === undefined ? '' : `(${t.tag})`}`).join(','),
      `${status.instances.ready}/${status.instances.ready + status.instances.starting}`,
      age(fn.metadata.creationTimestamp)
    ]
    if (!wide) return cells
    return [
      ...cells,
      (status.serving ?? status.traffic).filter((t) => t.percent > 0).map((t) => `v${t.version}:${t.percent}%`).join(','),
      routesOf(fn).join(','),
      `${fn.spec.scale.min}-${fn.spec.scale.max}`,
      labelText(fn.metadata.labels)
    ]
  },
  name: (fn) => `function/${fn.metadata.name}`
}

/** Where the function answers: its /fn/ routes, and its path, on its host or on every host. */
export function routesOf (fn: FunctionView): string[] {
  const { name, namespace } = fn.metadata
  const { host, path } = fn.spec.http
  const own = host === undefined ? (path === undefined ? [] : [path]) : [`${host}${path ?? '/'}`]
  return [...(namespace === 'default' ? [`/fn/${name}`] : []), `/fn/${name}.${namespace}`, ...own]
}

function labelText (labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'
}

function versionPrinter (fn: string): Printer<VersionItem> {
  return {
    columns: ['VERSION', 'TRAFFIC', 'TAG', 'BUNDLE', 'TIMEOUT', 'MEMORY', 'CONCURRENCY', 'AGE'],
    wide: ['ENV'],
    row: (v, wide) => [...versionRows([v])[0], ...(wide ? [Object.keys(v.config.env).join(',') || '<none>'] : [])],
    name: (v) => `version/${fn}.v${v.number}`
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

export const INSTANCE_COLUMNS = ['ID', 'FUNCTION', 'VERSION', 'STATE', 'IN-FLIGHT', 'PID', 'AGE']

export function instanceRows (items: InstanceSummary[]): string[][] {
  return items.map((i) => [i.id, `${i.function}.${i.namespace}`, `v${i.version}`, i.state, String(i.inFlight ?? 0), String(i.pid ?? ''), age(i.startedAt)])
}

const INSTANCES: Printer<InstanceSummary> = {
  columns: INSTANCE_COLUMNS,
  wide: ['POOLED', 'READY-AFTER'],
  row: (i, wide) => [...instanceRows([i])[0], ...(wide ? [i.pooled ? 'yes' : 'no', i.readyAt === null ? '' : `${i.readyAt - i.startedAt}ms`] : [])],
  name: (i) => `instance/${i.id}`
}

function eventPrinter (all: boolean): Printer<EventItem> {
  return {
    columns: [...(all ? ['NAMESPACE'] : []), 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wide: [],
    row: (e) => [...(all ? [e.namespace] : []), age(e.time), e.type, e.reason, `${e.kind.toLowerCase()}/${e.name}`, e.message],
    name: (e) => `event/${e.id}`
  }
}

// Keys only: the API never answers a secret's values.
interface SecretItem { metadata: { name: string, namespace: string, creationTimestamp: string }, keys: string[], usedBy: string[] }

const SECRETS: Printer<SecretItem> = {
  columns: ['NAME', 'KEYS', 'AGE'],
  wide: ['USED BY'],
  row: (s, wide) => [s.metadata.name, s.keys.join(',') || '<none>', age(s.metadata.creationTimestamp), ...(wide ? [s.usedBy.join(',') || '<none>'] : [])],
  name: (s) => `secret/${s.metadata.name}`
}

function queuePrinter (all: boolean): Printer<QueueItem> {
  return {
    columns: [...(all ? ['NAMESPACE'] : []), 'NAME', 'CONSUMER', 'DEPTH', 'LEASED', 'DEAD', 'LAST DONE'],
    wide: ['BACKLOG', 'MAX DEPTH'],
    row: (q, wide) => [
      ...(all ? [q.namespace] : []),
      q.name,
      q.consumer ?? '<none>',
      String(q.depth),
      String(q.leased),
      String(q.dead),
      q.lastCompletedAt === null ? '<never>' : `${age(q.lastCompletedAt)} ago`,
      ...(wide ? [String(q.backlog), q.maxDepth === null ? '' : String(q.maxDepth)] : [])
    ],
    name: (q) => `queue/${q.name}`
  }
}

function triggerPrinter (all: boolean): Printer<TriggerItem> {
  const when = (time: number | null, empty: string): string => time === null ? empty : new Date(time).toISOString().replace('.000Z', 'Z')
  return {
    columns: [...(all ? ['NAMESPACE'] : []), 'FUNCTION', 'KIND', 'NAME', 'SCHEDULE', 'LAST FIRING', 'NEXT FIRING', 'BACKLOG', 'CONNECTOR'],
    wide: ['TIMEZONE', 'QUEUE', 'SERVER', 'MESSAGE'],
    row: (t, wide) => [
      ...(all ? [t.namespace] : []),
      t.function,
      t.kind,
      t.name,
      t.schedule ?? '',
      t.kind === 'cron' ? when(t.lastFiring, '<never>') : '',
      t.kind === 'cron' ? when(t.nextFiring, '<none>') : '',
      String(t.backlog),
      // A broker trigger shows its broker and its state: "redis Connected", "nats BrokerUnavailable".
      t.connector === null ? '' : t.state === null ? t.connector : `${t.connector} ${t.state === 'Connected' ? 'Connected' : t.reason ?? t.state}`,
      ...(wide ? [t.timezone ?? '', t.queue, t.server ?? '', t.message ?? ''] : [])
    ],
    name: (t) => `trigger/${t.name}`
  }
}

const NAMESPACES: Printer<NamespaceItem> = {
  columns: ['NAME', 'STATUS', 'AGE'],
  wide: ['FUNCTIONS', 'RULES', 'TOKENS', 'LABELS'],
  row: (ns, wide) => [
    ns.metadata.name,
    ns.status.phase,
    ns.metadata.creationTimestamp === null ? '<unknown>' : age(ns.metadata.creationTimestamp),
    ...(wide ? [String(ns.status.functions), String(ns.status.rules ?? 0), String(ns.status.tokens), labelText(ns.metadata.labels)] : [])
  ],
  name: (ns) => `namespace/${ns.metadata.name}`
}

/** Why a rule does or does not act, in one word: Unresolved (a name it uses does not exist), Applied, or why not. */
export function ruleStatusWord (rule: RuleView): string {
  const resolved = rule.status.conditions.find((c) => c.type === 'Resolved')
  if (resolved?.status === 'False') return 'Unresolved'
  const applied = rule.status.conditions.find((c) => c.type === 'Applied')
  return applied?.status === 'True' ? 'Applied' : applied?.reason ?? 'Unknown'
}

export function ruleResource (rule: RuleView): RuleResource {
  return { kind: rule.kind, namespace: rule.metadata.namespace, name: rule.metadata.name, labels: rule.metadata.labels, spec: rule.spec } as RuleResource
}

function rulePrinter (all: boolean, withKind: boolean): Printer<RuleView> {
  return {
    columns: [...(all ? ['NAMESPACE'] : []), ...(withKind ? ['KIND'] : []), 'NAME', 'SUMMARY', 'STATUS', 'AGE'],
    wide: ['FUNCTIONS', 'LABELS'],
    row: (r, wide) => [
      ...(all ? [r.metadata.namespace] : []),
      ...(withKind ? [r.kind] : []),
      r.metadata.name,
      summarizeRule(ruleResource(r)),
      ruleStatusWord(r),
      age(r.metadata.creationTimestamp),
      ...(wide ? [r.status.functions.join(',') || '<none>', labelText(r.metadata.labels)] : [])
    ],
    name: (r) => `${r.kind.toLowerCase()}/${r.metadata.name}`
  }
}
