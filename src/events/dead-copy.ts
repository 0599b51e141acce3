// Roost's own copy of a message a broker trigger dead-lettered: a record
// stored dead from the start, with its last attempt, so that `roost dlq`
// lists, replays and purges broker messages as it does embedded ones.
// Runs inside the EventStore's transaction.
import type Database from 'better-sqlite3'
import type { MessageContent } from './record-types.js'

/** One dead broker message, as the consumer loop saw it end. */
export interface DeadCopy extends MessageContent {
  /** The record's id: unique in the events database (the broker's id, qualified by its queue). */
  id: string
  /** Counted attempts the message had, this last one included. */
  attempts: number
  maxAttempts: number
  reason: string
  /** The last attempt's outcome and error, for its history. */
  outcome: 'error' | 'timeout' | 'crashed' | 'retry' | 'dead'
  error?: string
  status?: number
  consumer: string
  /** When the broker took the message, and when its last attempt started. */
  createdAt: number
  startedAt: number
}

const SQL = {
  insert: `
    INSERT OR IGNORE INTO records (id, kind, namespace, queue, state, source, type, subject, content_type, attributes, body_type, body,
      created_at, not_before, attempts, max_attempts, backoff_initial_ms, backoff_max_ms, lease_token, first_started_at, finished_at, dead_reason)
    VALUES (@id, 'message', @namespace, @queue, 'dead', @source, @type, @subject, @contentType, @attributes, @bodyType, @body,
      @createdAt, @now, @attempts, @maxAttempts, 0, 0, 1, @startedAt, @now, @reason)`,
  attempt: `
    INSERT INTO attempts (record_seq, delivery, counted, outcome, consumer, started_at, ended_at, init_ms, status, error)
    VALUES (@seq, 1, 1, @outcome, @consumer, @startedAt, @now, NULL, @status, @error)`
} as const

export class DeadCopies {
  private readonly insert: Database.Statement<[Record<string, unknown>]>
  private readonly attempt: Database.Statement<[Record<string, unknown>]>

  constructor (db: Database.Database) {
    this.insert = db.prepare<[Record<string, unknown>]>(SQL.insert)
    this.attempt = db.prepare<[Record<string, unknown>]>(SQL.attempt)
  }

  /** False when a copy with this id is kept already (a repeated call stores nothing). */
  keep (namespace: string, queue: string, copy: DeadCopy, now: number): boolean {
    const body = Buffer.from(copy.body.buffer, copy.body.byteOffset, copy.body.byteLength)
    const result = this.insert.run({
      id: copy.id, namespace, queue, source: copy.source, type: copy.type, subject: copy.subject ?? null, contentType: copy.contentType,
      attributes: JSON.stringify(copy.attributes), bodyType: copy.bodyType, body, createdAt: copy.createdAt, now,
      attempts: copy.attempts, maxAttempts: copy.maxAttempts, startedAt: copy.startedAt, reason: copy.reason.slice(0, 4096)
    })
    if (result.changes === 0) return false
    this.attempt.run({
      seq: result.lastInsertRowid, outcome: copy.outcome, consumer: copy.consumer, startedAt: copy.startedAt, now,
      status: copy.status ?? null, error: copy.error === undefined ? null : copy.error.slice(0, 4096)
    })
    return true
  }
}
