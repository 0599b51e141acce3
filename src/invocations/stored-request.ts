// The request of an async call as its invocation record keeps it: the body
// (JSON) of a record of kind `invocation` in the function's async queue. This
// is the format the dispatcher replays (docs/event-delivery.md, "The
// invocation record"); version 1.
import { recordCloudEventHeaders, type RecordAttributes } from '../events/index.js'
import type { AsyncInvocationRequest } from '../gateway/index.js'

export const STORED_REQUEST_VERSION = 1

export interface StoredRequest {
  v: typeof STORED_REQUEST_VERSION
  /** The function called; its namespace is the record's. */
  function: string
  method: string
  /** Path and query as the function sees them, from "/". */
  path: string
  /** In order, repeats kept; without hop-by-hop headers, those the gateway sets, and the credentials a caller check read. */
  headers: Array<[string, string]>
  /** The request body, base64. */
  body: string
  callbackUrl: string | null
  /** ctx.caller of the call (`key:…`, `fn:ns/name`, …); null for anonymous. */
  caller: string | null
  /** The x-request-id the async call was answered with. */
  requestId: string
}

export function storedRequestOf (request: AsyncInvocationRequest): StoredRequest {
  return {
    v: STORED_REQUEST_VERSION,
    function: request.function,
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('base64'),
    callbackUrl: request.callbackUrl ?? null,
    caller: request.caller ?? null,
    requestId: request.requestId
  }
}

/** The stored request of an invocation record's body, or undefined when the body is not one (another kind of record, a newer version). */
export function readStoredRequest (body: Uint8Array): StoredRequest | undefined {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const stored = value as Partial<StoredRequest>
  if (stored.v !== STORED_REQUEST_VERSION || typeof stored.function !== 'string' || typeof stored.method !== 'string' ||
    typeof stored.path !== 'string' || !Array.isArray(stored.headers) || typeof stored.body !== 'string') return undefined
  return stored as StoredRequest
}

export interface InvocationDelivery {
  method: string
  /** On the gateway: /fn/<function>.<namespace><path>. */
  path: string
  headers: Array<[string, string]>
  body: Buffer
}

/**
 * The delivery request of an invocation record, for the dispatcher to send
 * to the gateway: the stored request, with x-roost-event: invocation, the
 * run's event token, the record's id as x-roost-call-id (it is the request id
 * too, so the attempt's logs are found by it) and the original caller.
 */
export function invocationDelivery (record: RecordAttributes & { namespace: string }, stored: StoredRequest, eventToken: string): InvocationDelivery {
  const headers: Array<[string, string]> = [
    ...stored.headers,
    // A call that was itself a CloudEvent keeps its own attributes: mixing in the record's would describe neither event.
    ...(isCloudEvent(stored.headers) ? [] : recordCloudEventHeaders(record)),
    ['x-roost-event', 'invocation'],
    ['x-roost-event-token', eventToken],
    ['x-roost-call-id', record.id]
  ]
  if (stored.caller !== null) headers.push(['x-roost-caller', stored.caller])
  return { method: stored.method, path: `/fn/${stored.function}.${record.namespace}${stored.path}`, headers, body: Buffer.from(stored.body, 'base64') }
}

/** Binary mode (ce-specversion) or structured mode (application/cloudevents+json, converted by the gateway but checked all the same). */
function isCloudEvent (headers: ReadonlyArray<[string, string]>): boolean {
  for (const [name, value] of headers) {
    const lower = name.toLowerCase()
    if (lower === 'ce-specversion') return true
    if (lower === 'content-type' && value.toLowerCase().startsWith('application/cloudevents')) return true
  }
  return false
}
