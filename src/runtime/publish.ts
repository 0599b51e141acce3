import { delayMs } from './duration.js'

// ctx.publish: messages to a queue of the function's namespace, through the
// gateway's own path (docs/event-delivery.md, "Publishing from a function").
// The call token says which function publishes, and so which namespace.

export interface PublishOptions {
  /** Idempotency key: another message with it within the queue's retention is a duplicate. */
  key?: string
  /** Not delivered before this many ms (or a duration such as "5s"). */
  delay?: number | string
  attributes?: Record<string, string>
  /** A key already in use: refuse this message (the default) or replace the waiting one. */
  onDuplicate?: 'refuse' | 'replace'
}

export interface PublishItem extends PublishOptions {
  body: unknown
}

export interface PublishResult {
  id: string
  /** `duplicate`: a message with the key was there already; `id` is that one's. */
  outcome: 'created' | 'replaced' | 'duplicate'
}

/** One message as it goes to the gateway. */
export interface OutgoingMessage {
  body: unknown
  bodyType: 'json' | 'text' | 'bytes'
  key?: string
  delayMs?: number
  attributes?: Record<string, string>
  onDuplicate?: 'refuse' | 'replace'
}

/** Where publishes go and what they carry: the gateway, the call token, the request they belong to. */
export interface PublishTarget {
  gatewayUrl: string | null
  callToken: string | null
  requestId: string
  deadline: number
}

/** The gateway refused a publish (`status`, `code` from its problem answer), or never answered (`status` 0). */
export class PublishError extends Error {
  readonly code: string
  readonly status: number
  /** With 429 (the queue is full): how long to wait before trying again. */
  readonly retryAfterMs: number | undefined
  readonly field: string | undefined

  constructor (message: string, details: { code: string, status: number, retryAfterMs?: number, field?: string, cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'PublishError'
    this.code = details.code
    this.status = details.status
    this.retryAfterMs = details.retryAfterMs
    this.field = details.field
  }
}

const OUTCOMES = new Set(['created', 'replaced', 'duplicate'])

/** A message with its body encoded: bytes as base64, a string as text, anything else as its JSON value. */
export function outgoingMessage (body: unknown, options: PublishOptions | undefined, what: string): OutgoingMessage {
  const message = encodeBody(body, what)
  if (options === undefined) return message
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: options must be an object`)
  if (options.key !== undefined) {
    if (typeof options.key !== 'string' || options.key === '') throw new TypeError(`${what}: key must be a non-empty string`)
    message.key = options.key
  }
  if (options.delay !== undefined) message.delayMs = delayMs(options.delay, `${what}: delay`)
  if (options.attributes !== undefined) message.attributes = attributesOf(options.attributes, what)
  if (options.onDuplicate !== undefined) {
    if (options.onDuplicate !== 'refuse' && options.onDuplicate !== 'replace') throw new TypeError(`${what}: onDuplicate must be "refuse" or "replace"`)
    message.onDuplicate = options.onDuplicate
  }
  return message
}

function encodeBody (body: unknown, what: string): OutgoingMessage {
  if (typeof body === 'string') return { body, bodyType: 'text' }
  if (body instanceof ArrayBuffer) return { body: Buffer.from(body).toString('base64'), bodyType: 'bytes' }
  if (ArrayBuffer.isView(body)) return { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'), bodyType: 'bytes' }
  if (body === undefined || typeof body === 'function' || typeof body === 'symbol') {
    throw new TypeError(`${what}: the body must be a JSON value, a string or bytes, not ${typeof body}`)
  }
  return { body, bodyType: 'json' }
}

function attributesOf (attributes: unknown, what: string): Record<string, string> {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) throw new TypeError(`${what}: attributes must be an object of strings`)
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value !== 'string') throw new TypeError(`${what}: attribute ${name} must be a string, got ${typeof value}`)
  }
  return attributes as Record<string, string>
}

/** POSTs the messages to the gateway; resolves to one result per message, in order, or rejects with a PublishError. */
export async function sendMessages (target: PublishTarget, queue: string, messages: OutgoingMessage[], what: string): Promise<PublishResult[]> {
  if (target.gatewayUrl === null) throw new TypeError(`${what}: this instance knows no gateway to publish through`)
  const url = new URL(`/_roost/queues/${encodeURIComponent(queue)}/messages`, target.gatewayUrl)
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': target.requestId }
  if (target.callToken !== null) headers['x-roost-call'] = target.callToken
  let response: Response
  let text: string
  try {
    // Past the deadline the work it belongs to has been given up on: so is the publish.
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ messages }), signal: AbortSignal.timeout(Math.max(0, target.deadline - Date.now())) })
    text = await response.text()
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError'
    throw new PublishError(timedOut
      ? `${what}: no answer from the gateway before the deadline; the message may have been queued (a key makes publishing again safe)`
      : `${what}: the gateway could not be reached: ${err instanceof Error ? err.message : String(err)}`,
    { code: timedOut ? 'ROOST_E_TIMEOUT' : 'ROOST_E_CONNECTION', status: 0, cause: err })
  }
  if (response.status === 200 || response.status === 201) return resultsOf(text, messages.length, response.status, what)
  throw refusal(response, text, what)
}

function resultsOf (text: string, count: number, status: number, what: string): PublishResult[] {
  let results: unknown
  try {
    results = (JSON.parse(text) as { results?: unknown }).results
  } catch {}
  if (Array.isArray(results) && results.length === count && results.every(isResult)) return results as PublishResult[]
  throw new PublishError(`${what}: the gateway answered ${status} without a result for each message`, { code: 'ROOST_E_GATEWAY', status })
}

function isResult (value: unknown): boolean {
  return typeof value === 'object' && value !== null &&
    typeof (value as PublishResult).id === 'string' && OUTCOMES.has((value as PublishResult).outcome)
}

function refusal (response: Response, text: string, what: string): PublishError {
  let problem: { code?: unknown, detail?: unknown, field?: unknown } = {}
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null) problem = parsed
  } catch {}
  const detail = typeof problem.detail === 'string' ? problem.detail : `the gateway answered ${response.status}`
  return new PublishError(`${what}: ${detail}`, {
    code: typeof problem.code === 'string' ? problem.code : 'ROOST_E_GATEWAY',
    status: response.status,
    retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
    field: typeof problem.field === 'string' ? problem.field : undefined
  })
}

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs (value: string | null): number | undefined {
  if (value === null) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}
