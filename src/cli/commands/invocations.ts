import type { Command } from '../command.js'
import type { LogLineItem } from '../../api/index.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, formatTable, outputFormat, printData } from '../output.js'
import { formatLine } from './logs.js'
import { UsageError } from '../../errors/index.js'

interface InvocationItem {
  id: string
  namespace: string
  function: string
  status: string
  attempts: number
  maxAttempts: number
  createdAt: number
  startedAt: number | null
  finishedAt: number | null
  timings: { waitedMs: number | null, coldStartMs: number | null, ranMs: number | null }
  reason: string | null
  request: { method: string, path: string, callbackUrl: string | null, caller: string | null, requestId: string, bodyBytes: number } | null
  response: { status: number, headers: Record<string, string>, body: string, bodyEncoding: 'utf8' | 'base64', truncated: boolean } | null
}

interface AttemptItem {
  delivery: number
  counted: boolean
  outcome: string
  consumer: string | null
  startedAt: number
  endedAt: number
  initMs: number | null
  status: number | null
  error: string | null
}

interface InvocationDetail extends InvocationItem {
  history: AttemptItem[]
  logs: LogLineItem[]
}

const V1 = '/apis/roost.dev/v1'
/** Of a response body, get shows this much; -o json has it whole. */
const SHOWN_BODY_CHARS = 2000

export const command: Command = {
  summary: 'Show, list and cancel async invocations (POST /async/fn/NAME on the gateway).',
  usage: `Usage: roost invocations get ID [-n NS] [-o json|yaml]
       roost invocations list FUNCTION [-n NS] [--status S] [--limit N] [-o json|yaml]
       roost invocations cancel ID... [-n NS]

An async call (POST /async/fn/NAME, or /async before a function's own path) is
answered 202 with its id in X-Call-Id; the platform runs it later, retrying a
failure twice with backoff. get shows its status, attempts, timings, the
response and the logs its attempts wrote; list shows a function's recent ones
(finished ones are kept 24 h); cancel stops one that has not started.

Flags:
  -n, --namespace   namespace (default: default)
      --status      list: queued, retrying, running, succeeded, failed, expired or cancelled
      --limit       list: at most this many (default 100)
  -o, --output      json or yaml`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('invocations', argv, {
      namespace: { type: 'string', short: 'n' },
      status: { type: 'string' },
      limit: { type: 'string' },
      output: { type: 'string', short: 'o' }
    })
    const [sub, ...args] = positionals
    const namespace = values.namespace ?? 'default'
    const format = outputFormat(values.output)
    const client = connect()
    if (sub === 'get' || sub === 'describe') {
      if (args.length !== 1) throw new UsageError('invocations get needs one ID', { hint: 'the id is the X-Call-Id of the 202; `roost invocations list FUNCTION` lists them' })
      const detail = await client.get<InvocationDetail>(`${V1}/namespaces/${namespace}/invocations/${encodeURIComponent(args[0] as string)}`)
      if (format !== 'table') return printData(format, detail), 0
      process.stdout.write(describeInvocation(detail))
      return 0
    }
    if (sub === 'list' || sub === 'ls') {
      if (args.length !== 1) throw new UsageError('invocations list needs one FUNCTION', { hint: 'e.g. `roost invocations list hello --status failed`' })
      const query = new URLSearchParams()
      if (values.status !== undefined) query.set('status', values.status)
      if (values.limit !== undefined) query.set('limit', values.limit)
      const { items } = await client.get<{ items: InvocationItem[] }>(`${V1}/namespaces/${namespace}/functions/${encodeURIComponent(args[0] as string)}/invocations?${query.toString()}`)
      if (format !== 'table') return printData(format, items), 0
      process.stdout.write(items.length === 0 ? 'No invocations found.\n' : invocationTable(items))
      return 0
    }
    if (sub === 'cancel' || sub === 'delete') {
      if (args.length === 0) throw new UsageError('invocations cancel needs the invocation\'s ID', { hint: '`roost invocations list FUNCTION --status queued` shows what can be cancelled' })
      for (const id of args) {
        await client.delete(`${V1}/namespaces/${namespace}/invocations/${encodeURIComponent(id)}`)
        process.stdout.write(`invocation/${id} cancelled\n`)
      }
      return 0
    }
    throw new UsageError(`invocations: "${sub ?? ''}" is not get, list or cancel`, { hint: 'e.g. `roost invocations get ID`, `roost invocations list hello`, `roost invocations cancel ID`' })
  }
}

export function invocationTable (items: InvocationItem[], now = Date.now()): string {
  return formatTable(['ID', 'FUNCTION', 'STATUS', 'ATTEMPTS', 'CODE', 'AGE'], items.map((item) => [
    item.id, item.function, item.status, `${item.attempts}/${item.maxAttempts}`, item.response === null ? '' : String(item.response.status), age(item.createdAt, now)
  ]))
}

export function describeInvocation (d: InvocationDetail): string {
  const time = (ms: number | null): string => ms === null ? '-' : new Date(ms).toISOString()
  const duration = (ms: number | null): string => ms === null ? '-' : `${ms} ms`
  const lines = [
    `Id:           ${d.id}`,
    `Function:     ${d.function} (namespace ${d.namespace})`,
    `Status:       ${d.status}${d.reason === null ? '' : ` (${d.reason})`}`,
    `Attempts:     ${d.attempts} of ${d.maxAttempts}`,
    `Created:      ${time(d.createdAt)}`,
    `Started:      ${time(d.startedAt)}`,
    `Finished:     ${time(d.finishedAt)}`,
    `Timings:      waited ${duration(d.timings.waitedMs)}, cold start ${duration(d.timings.coldStartMs)}, ran ${duration(d.timings.ranMs)}`
  ]
  if (d.request !== null) {
    lines.push(`Request:      ${d.request.method} ${d.request.path} (${d.request.bodyBytes} bytes)${d.request.caller === null ? '' : ` from ${d.request.caller}`}`)
    if (d.request.callbackUrl !== null) lines.push(`Callback:     ${d.request.callbackUrl}`)
  }
  if (d.response !== null) {
    const body = d.response.bodyEncoding === 'utf8' ? d.response.body : `(${d.response.body.length} base64 characters)`
    const shown = body.length > SHOWN_BODY_CHARS ? `${body.slice(0, SHOWN_BODY_CHARS)}… (-o json shows it whole)` : body
    lines.push(`Response:     ${d.response.status}${d.response.truncated ? ' (body cut at the limit)' : ''}`, ...shown.split('\n').map((line) => `  ${line}`))
  }
  lines.push('', 'Attempts:')
  if (d.history.length === 0) lines.push('  none yet')
  else {
    lines.push(...formatTable(['DELIVERY', 'OUTCOME', 'COUNTED', 'STATUS', 'RAN', 'ERROR'], d.history.map((a) => [
      String(a.delivery), a.outcome, a.counted ? 'yes' : 'no', a.status === null ? '' : String(a.status), `${a.endedAt - a.startedAt} ms`, a.error ?? ''
    ])).trimEnd().split('\n').map((line) => `  ${line}`))
  }
  lines.push('', 'Logs:')
  if (d.logs.length === 0) lines.push('  none')
  else lines.push(...d.logs.map((line) => `  ${formatLine(line).trimEnd()}`))
  return lines.join('\n') + '\n'
}
