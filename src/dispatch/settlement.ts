// The failure-class table of docs/event-delivery.md as pure code: what a
// delivery's answer does to each record it carried. A failure the handler
// caused counts an attempt; a refusal or a stop of the platform's own does not.
import type { FailureCause, LeasedRecord, Settlement } from '../events/index.js'
import type { DeliveryAnswer, DeliveryEvent } from './consumer.js'

/** A refusal without Retry-After is retried this much later. */
export const DEFAULT_RELEASE_DELAY_MS = 1000
/** A function that cannot start (its module fails to load) is tried again this much later, without using attempts. */
export const START_FAILED_DELAY_MS = 5000

interface HandlerResult {
  id?: unknown
  outcome?: unknown
  delayMs?: unknown
  reason?: unknown
  error?: unknown
}

/** The settlement of every record of a delivery, in the order of `records`. */
export function settlementsFor (records: readonly LeasedRecord[], answer: DeliveryAnswer, event: DeliveryEvent): Settlement[] {
  switch (answer.kind) {
    case 'aborted':
      return records.map((r) => ({ id: r.id, token: r.token, outcome: 'released', reason: 'stopped' }))
    case 'unreachable':
      // The gateway is not there (it stops, or its thread died): nothing ran.
      return records.map((r) => ({ id: r.id, token: r.token, outcome: 'released', reason: 'stopped', delayMs: DEFAULT_RELEASE_DELAY_MS }))
    case 'timed-out':
      return records.map((r) => failed(r, 'timeout', 'no answer within the function\'s timeout'))
    case 'answered':
      return answered(records, answer, event)
  }
}

/**
 * Whether a queue delivery's answer is the runtime's `{"acked":n}` for all
 * `count` of its records: every one succeeded, with no table to read. Any
 * other answer goes through settlementsFor.
 */
export function acknowledgedAll (answer: DeliveryAnswer, count: number): boolean {
  if (answer.kind !== 'answered' || answer.status !== 200 || answer.body.length > MAX_ACKED_BYTES) return false
  return answer.body.toString('latin1') === `{"acked":${count}}`
}

const MAX_ACKED_BYTES = 32

// The gateway's own refusals: the platform did not run the handler, so no attempt is used.
const GATEWAY_REFUSALS = new Set([
  'ROOST_E_RATE_LIMITED', 'ROOST_E_CONCURRENCY_LIMITED', 'ROOST_E_BREAKER_OPEN', 'ROOST_E_OVERLOADED', 'ROOST_E_NOT_READY',
  'ROOST_E_GATEWAY_OVERLOADED', 'ROOST_E_TOO_MANY_CONNECTIONS'
])
/** Response headers a stored response leaves out: framing and hop-by-hop. */
const NOT_STORED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive'])

function answered (records: readonly LeasedRecord[], answer: Extract<DeliveryAnswer, { kind: 'answered' }>, event: DeliveryEvent): Settlement[] {
  const { status } = answer
  let body: string | undefined
  const text = (): string => body ??= answer.body.toString('utf8')
  // Read only for the statuses that need it: a 200's body is the results list, parsed once below.
  let read: { code?: string, detail?: string } | undefined
  const problem = (): { code?: string, detail?: string } => read ??= problemOf(answer.headers['content-type'], text)
  const release = (delayMs: number): Settlement[] => records.map((r) => ({ id: r.id, token: r.token, outcome: 'released', reason: 'drained', delayMs }))
  // A handler's queue and scheduled answers are 200 or 500: a 429 or 503 is the gateway's (governance, overload, no instance).
  // A function's own response to an invocation may be one too: only the gateway's problem codes release it.
  if ((status === 429 || status === 503) && (event !== 'invocation' || GATEWAY_REFUSALS.has(problem().code ?? ''))) {
    return release(retryAfterMs(answer.headers['retry-after']) ?? DEFAULT_RELEASE_DELAY_MS)
  }
  if (status === 502 && problem().code === 'ROOST_E_START_FAILED') return release(START_FAILED_DELAY_MS)
  // The routing table does not have the function (yet, or any more): it is not the message's fault.
  if (status === 404 && problem().code === 'ROOST_E_ROUTE_NOT_FOUND') return release(DEFAULT_RELEASE_DELAY_MS)
  if (event === 'invocation' && status < 500) {
    // The caller's request was served, whatever the function answered: the response is the result.
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(answer.headers)) if (!NOT_STORED.has(name)) headers[name] = value
    return records.map((r) => ({ id: r.id, token: r.token, outcome: 'succeeded', response: { status, headers, body: answer.body } }))
  }
  if (status >= 200 && status < 300) return event === 'queue' ? byResults(records, text()) : scheduledOutcome(records, text())
  const cause: FailureCause = status === 504 ? 'timeout' : problem().code === 'ROOST_E_INSTANCE_CRASHED' ? 'crashed' : 'error'
  const error = problem().detail ?? `HTTP ${status}`
  return records.map((r) => ({ ...failed(r, cause, error), status }))
}

/** A queue handler's answer: `{ results: [{ id, outcome, delayMs?, reason?, error? }] }`, or `{ acked: n }` when all n were acknowledged. */
function byResults (records: readonly LeasedRecord[], body: string): Settlement[] {
  const parsed = parseJson(body) as { results?: unknown, acked?: unknown } | undefined
  if (parsed !== undefined && parsed.acked !== undefined) {
    if (parsed.acked === records.length) return records.map((r) => ({ id: r.id, token: r.token, outcome: 'succeeded' }))
    return records.map((r) => failed(r, 'error', `the queue handler's answer acknowledged ${JSON.stringify(parsed.acked)} messages of the ${records.length} delivered`))
  }
  const results = new Map<string, HandlerResult>()
  if (parsed !== undefined && Array.isArray(parsed.results)) {
    for (const result of parsed.results as HandlerResult[]) {
      if (typeof result === 'object' && result !== null && typeof result.id === 'string') results.set(result.id, result)
    }
  } else {
    return records.map((r) => failed(r, 'error', 'the queue handler\'s answer had no results list'))
  }
  return records.map((r) => {
    const result = results.get(r.id)
    return result === undefined ? failed(r, 'error', 'the queue handler\'s answer named no outcome for this message') : fromResult(r, result)
  })
}

function scheduledOutcome (records: readonly LeasedRecord[], body: string): Settlement[] {
  const parsed = parseJson(body) as HandlerResult | undefined
  // `{"outcome":"ack"}`, or an empty 2xx body: the handler returned.
  return records.map((r) => fromResult(r, parsed ?? { outcome: 'ack' }))
}

function fromResult (record: LeasedRecord, result: HandlerResult): Settlement {
  const text = (value: unknown): string | undefined => typeof value === 'string' && value.length > 0 ? value : undefined
  switch (result.outcome) {
    case undefined:
    case 'ack':
      return { id: record.id, token: record.token, outcome: 'succeeded' }
    case 'retry': {
      const delay = typeof result.delayMs === 'number' && Number.isFinite(result.delayMs) && result.delayMs >= 0 ? result.delayMs : undefined
      const settlement: Settlement = { ...failed(record, 'retry', text(result.error) ?? text(result.reason) ?? 'the handler asked for a retry') }
      if (delay !== undefined) settlement.retryAfterMs = delay
      return settlement
    }
    case 'dead':
      return { id: record.id, token: record.token, outcome: 'dead', reason: text(result.reason) ?? 'dead-lettered by the handler', ...(text(result.error) === undefined ? {} : { error: text(result.error) }) }
    default:
      return failed(record, 'error', `the handler's answer had an unknown outcome ${JSON.stringify(result.outcome)}`)
  }
}

function failed (record: LeasedRecord, cause: FailureCause, error: string): Extract<Settlement, { outcome: 'failed' }> {
  return { id: record.id, token: record.token, outcome: 'failed', cause, error }
}

function problemOf (contentType: string | undefined, text: () => string): { code?: string, detail?: string } {
  // Only JSON is read: a function's HTML error page is not a problem document.
  if (contentType === undefined || !/json/i.test(contentType)) return {}
  const parsed = parseJson(text()) as { code?: unknown, detail?: unknown } | undefined
  return {
    code: typeof parsed?.code === 'string' ? parsed.code : undefined,
    detail: typeof parsed?.detail === 'string' ? parsed.detail : undefined
  }
}

function parseJson (body: string): unknown {
  if (body.length === 0) return undefined
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === 'object' && value !== null ? value : undefined
  } catch {
    return undefined
  }
}

/** Retry-After in seconds (an HTTP date is not what the gateway sends; it counts as absent). */
export function retryAfterMs (header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,6}$/.test(header.trim())) return undefined
  return Number(header.trim()) * 1000
}
