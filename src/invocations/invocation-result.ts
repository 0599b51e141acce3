// The final result of an async invocation, from its record: what the
// callback receives, what `?wait=` answers with, and the response part of
// `GET …/invocations/ID`.
import { invocationView, type InvocationStatus, type RecordView } from '../events/index.js'
import { functionOfAsyncQueue } from './async-queue.js'

export interface EncodedBody {
  /** UTF-8 text when the bytes are valid UTF-8, else base64. */
  body: string
  bodyEncoding: 'utf8' | 'base64'
}

export interface InvocationResult extends EncodedBody {
  callId: string
  namespace: string
  function: string
  /** succeeded, failed, expired or cancelled: a result is final. */
  status: InvocationStatus
  /** Counted attempts it took. */
  attempts: number
  /** The function's HTTP status in the last attempt; undefined when none answered (a timeout, a crash, never run). */
  statusCode: number | undefined
  headers: Record<string, string>
  /** The stored body was cut at the queue's maxResponseBytes. */
  truncated: boolean
  /** Why it failed: the last attempt's error, or the reason it is dead. */
  error: string | undefined
}

const FINAL = new Set<InvocationStatus>(['succeeded', 'failed', 'expired', 'cancelled'])
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })

export function isFinal (status: InvocationStatus): boolean {
  return FINAL.has(status)
}

/** The result of a finished invocation record; undefined while it may still run. */
export function invocationResult (record: RecordView): InvocationResult | undefined {
  const view = invocationView(record)
  if (!isFinal(view.status)) return undefined
  const last = record.history.filter((attempt) => attempt.counted).at(-1)
  const response = record.response
  return {
    callId: record.id,
    namespace: record.namespace,
    function: functionOfAsyncQueue(record.queue) ?? record.queue,
    status: view.status,
    attempts: record.attempts,
    statusCode: response?.status ?? last?.status,
    headers: response?.headers ?? {},
    ...encodeBody(response?.body ?? new Uint8Array(0)),
    truncated: response?.truncated ?? false,
    error: view.status === 'succeeded' ? undefined : last?.error ?? record.deadReason
  }
}

export function encodeBody (bytes: Uint8Array): EncodedBody {
  try {
    return { body: STRICT_UTF8.decode(bytes), bodyEncoding: 'utf8' }
  } catch {
    return { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), bodyEncoding: 'base64' }
  }
}
