// Settling a lease: the one place a delivery ends, whether the consumer
// reports it (ack, failure, dead letter, release) or the lease expired. Every
// settlement is fenced: it must name the record's current lease token, so an
// instance that lost its lease cannot overwrite what its successor does.
// Runs inside the EventStore's transaction.
import type Database from 'better-sqlite3'
import type { RandomSource } from './backoff.js'
import type { QueuePolicy } from './queue-policy.js'
import { RECORD_LIMITS } from './record-input.js'
import type { RecordRow } from './record-row.js'
import { afterCountedFailure } from './record-transitions.js'
import type { AttemptOutcome, RecordState, ResponseInput, Settlement, SettleResult } from './record-types.js'

const MAX_ERROR_LENGTH = 4096

const SQL = {
  current: 'SELECT * FROM records WHERE id = ?',
  end: `
    UPDATE records SET state = @state, attempts = @attempts, not_before = @notBefore, finished_at = @finishedAt,
      retain_until = @retainUntil, dead_reason = @deadReason, lease_expires_at = NULL,
      response_status = @responseStatus, response_headers = @responseHeaders, response_body = @responseBody,
      response_truncated = @responseTruncated
    WHERE seq = @seq`,
  attempt: `
    INSERT INTO attempts (record_seq, delivery, counted, outcome, consumer, started_at, ended_at, init_ms, status, error)
    VALUES (@seq, @delivery, @counted, @outcome, @consumer, @startedAt, @endedAt, @initMs, @status, @error)`,
  completed: 'UPDATE queue_stats SET last_completed_at = ? WHERE namespace = ? AND queue = ?'
} as const

interface EndValues {
  seq: number
  state: RecordState
  attempts: number
  notBefore: number
  finishedAt: number | null
  retainUntil: number | null
  deadReason: string | null
  responseStatus: number | null
  responseHeaders: string | null
  responseBody: Buffer | null
  responseTruncated: number | null
}

interface AttemptValues {
  outcome: AttemptOutcome
  counted: boolean
  initMs?: number
  status?: number
  error?: string
}

const NO_RESPONSE = { responseStatus: null, responseHeaders: null, responseBody: null, responseTruncated: null } as const

export class Settler {
  private readonly current: Database.Statement<[string], RecordRow>
  private readonly end: Database.Statement<[EndValues]>
  private readonly attempt: Database.Statement<[Record<string, unknown>]>
  private readonly completed: Database.Statement<[number, string, string]>

  constructor (db: Database.Database, private readonly random: RandomSource) {
    this.current = db.prepare<[string], RecordRow>(SQL.current)
    this.end = db.prepare<[EndValues]>(SQL.end)
    this.attempt = db.prepare<[Record<string, unknown>]>(SQL.attempt)
    this.completed = db.prepare<[number, string, string]>(SQL.completed)
  }

  settle (settlement: Settlement, now: number, policyOf: (namespace: string, queue: string) => QueuePolicy): SettleResult {
    const row = this.current.get(settlement.id)
    if (row === undefined || row.state !== 'leased' || row.lease_token !== settlement.token) {
      return { id: settlement.id, settled: false, reason: 'lease-lost' }
    }
    const policy = policyOf(row.namespace, row.queue)
    let state: RecordState
    switch (settlement.outcome) {
      case 'succeeded':
        state = 'succeeded'
        this.end.run({
          seq: row.seq, state, attempts: row.attempts + 1, notBefore: row.not_before, finishedAt: now,
          retainUntil: now + policy.retentionMs, deadReason: null, ...boundedResponse(settlement.response, policy.maxResponseBytes)
        })
        this.recordAttempt(row, now, { outcome: 'succeeded', counted: true, initMs: settlement.initMs, status: settlement.response?.status })
        break
      case 'failed':
        state = this.fail(row, now, {
          outcome: settlement.cause, counted: true, initMs: settlement.initMs, status: settlement.status, error: settlement.error
        }, settlement.retryAfterMs === undefined ? undefined : clampDelay(settlement.retryAfterMs))
        break
      case 'dead':
        state = this.fail(row, now, {
          outcome: 'dead', counted: true, initMs: settlement.initMs, status: settlement.status, error: settlement.error ?? settlement.reason
        }, undefined, settlement.reason)
        break
      case 'released':
        // Drained or stopped by the platform: the handler is not at fault, no attempt is used up.
        state = 'ready'
        this.end.run({
          seq: row.seq, state, attempts: row.attempts, notBefore: now + (settlement.delayMs ?? 0), finishedAt: null,
          retainUntil: null, deadReason: null, ...NO_RESPONSE
        })
        this.recordAttempt(row, now, { outcome: settlement.reason, counted: false })
        break
    }
    this.completed.run(now, row.namespace, row.queue)
    return { id: row.id, settled: true, state }
  }

  /** A lease that ran out counts as a failed attempt: the handler hung or its instance died. */
  expire (row: RecordRow, now: number): RecordState {
    const state = this.fail(row, now, { outcome: 'expired', counted: true, error: 'lease expired before the record was settled' })
    this.completed.run(now, row.namespace, row.queue)
    return state
  }

  private fail (row: RecordRow, now: number, attempt: AttemptValues, retryAfterMs?: number, noRetryReason?: string): RecordState {
    const what = attempt.outcome === 'expired' ? 'lease expired' : attempt.error === undefined ? attempt.outcome : `${attempt.outcome}: ${attempt.error}`
    const next = afterCountedFailure({
      attempts: row.attempts, maxAttempts: row.max_attempts, backoffInitialMs: row.backoff_initial_ms, backoffMaxMs: row.backoff_max_ms
    }, now, { what: truncate(what), retryAfterMs, noRetryReason }, this.random)
    this.end.run({
      seq: row.seq, state: next.state, attempts: next.attempts, notBefore: next.notBefore,
      finishedAt: next.state === 'dead' ? now : null, retainUntil: null, deadReason: next.deadReason, ...NO_RESPONSE
    })
    this.recordAttempt(row, now, attempt)
    return next.state
  }

  private recordAttempt (row: RecordRow, now: number, attempt: AttemptValues): void {
    this.attempt.run({
      seq: row.seq,
      delivery: row.lease_token,
      counted: attempt.counted ? 1 : 0,
      outcome: attempt.outcome,
      consumer: row.leased_by,
      startedAt: row.leased_at ?? now,
      endedAt: now,
      initMs: attempt.initMs ?? null,
      status: attempt.status ?? null,
      error: attempt.error === undefined ? null : truncate(attempt.error)
    })
  }
}

function boundedResponse (response: ResponseInput | undefined, maxBytes: number): Pick<EndValues, 'responseStatus' | 'responseHeaders' | 'responseBody' | 'responseTruncated'> {
  if (response === undefined) return NO_RESPONSE
  const body = typeof response.body === 'string'
    ? Buffer.from(response.body, 'utf8')
    : response.body === undefined ? Buffer.alloc(0) : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength)
  const truncated = body.byteLength > maxBytes
  return {
    responseStatus: response.status,
    responseHeaders: JSON.stringify(response.headers ?? {}),
    responseBody: truncated ? body.subarray(0, maxBytes) : body,
    responseTruncated: truncated ? 1 : 0
  }
}

function clampDelay (ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(0, Math.floor(ms)), RECORD_LIMITS.maxDelayMs) : 0
}

function truncate (text: string): string {
  return text.length <= MAX_ERROR_LENGTH ? text : text.slice(0, MAX_ERROR_LENGTH - 1) + '…'
}
