// An async invocation as `GET …/invocations/ID` shows it, from its record: the
// status vocabulary of OpenWhisk activations and Lambda's async records.
import { AGED_OUT_REASON } from './leaser.js'
import type { AttemptView, RecordView, StoredResponse } from './record-types.js'

export type InvocationStatus = 'queued' | 'retrying' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled'

export interface InvocationTimings {
  /** From publish to the first start. */
  waitedMs: number | undefined
  /** The cold start of the last attempt, when it had one. */
  coldStartMs: number | undefined
  /** How long the last attempt ran. */
  ranMs: number | undefined
}

export interface InvocationView {
  id: string
  namespace: string
  queue: string
  status: InvocationStatus
  attempts: number
  maxAttempts: number
  createdAt: number
  startedAt: number | undefined
  finishedAt: number | undefined
  timings: InvocationTimings
  reason: string | undefined
  response: StoredResponse | undefined
  history: AttemptView[]
}

export function invocationView (record: RecordView): InvocationView {
  const last = record.history[record.history.length - 1]
  return {
    id: record.id,
    namespace: record.namespace,
    queue: record.queue,
    status: invocationStatus(record),
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    createdAt: record.createdAt,
    startedAt: record.firstStartedAt,
    finishedAt: record.finishedAt,
    timings: {
      waitedMs: record.firstStartedAt === undefined ? undefined : record.firstStartedAt - record.createdAt,
      coldStartMs: last?.initMs,
      ranMs: last === undefined ? undefined : last.endedAt - last.startedAt
    },
    reason: record.deadReason,
    response: record.response,
    history: record.history
  }
}

function invocationStatus (record: RecordView): InvocationStatus {
  switch (record.state) {
    case 'ready': return record.attempts === 0 ? 'queued' : 'retrying'
    case 'leased': return 'running'
    case 'succeeded': return 'succeeded'
    case 'cancelled': return 'cancelled'
    case 'dead': return record.deadReason === AGED_OUT_REASON ? 'expired' : 'failed'
  }
}
