// Leasing: due ready records of a queue become leased to one consumer, each
// with the next fencing token; and the housekeeping that runs before every
// lease (records past their maximum age die, expired leases are taken back).
// Runs inside the EventStore's transaction.
import type Database from 'better-sqlite3'
import type { RecordRow } from './record-row.js'

/** The dead reason of a record that waited past its maximum age (Lambda's EventAgeExceeded). */
export const AGED_OUT_REASON = 'expired: older than its maximum age'

const SQL = {
  lease: `
    UPDATE records SET state = 'leased', lease_token = lease_token + 1, leased_by = @consumer, leased_at = @now,
      lease_expires_at = @expiresAt, first_started_at = coalesce(first_started_at, @now)
    WHERE seq IN (
      SELECT seq FROM records
      WHERE namespace = @namespace AND queue = @queue AND state = 'ready' AND not_before <= @now
      ORDER BY not_before, seq LIMIT @max)
    RETURNING *`,
  expireAged: `
    UPDATE records SET state = 'dead', dead_reason = @reason, finished_at = @now
    WHERE state = 'ready' AND deadline IS NOT NULL AND deadline <= @now`,
  overdueLeases: "SELECT * FROM records WHERE state = 'leased' AND lease_expires_at <= ? ORDER BY lease_expires_at",
  extend: "UPDATE records SET lease_expires_at = ? WHERE id = ? AND state = 'leased' AND lease_token = ?"
} as const

export interface LeaseParams {
  namespace: string
  queue: string
  consumer: string
  now: number
  expiresAt: number
  max: number
}

export class Leaser {
  private readonly leaseStatement: Database.Statement<[LeaseParams], RecordRow>
  private readonly expireAgedStatement: Database.Statement<[{ now: number, reason: string }]>
  private readonly overdueStatement: Database.Statement<[number], RecordRow>
  private readonly extendStatement: Database.Statement<[number, string, number]>

  constructor (db: Database.Database) {
    this.leaseStatement = db.prepare<[LeaseParams], RecordRow>(SQL.lease)
    this.expireAgedStatement = db.prepare<[{ now: number, reason: string }]>(SQL.expireAged)
    this.overdueStatement = db.prepare<[number], RecordRow>(SQL.overdueLeases)
    this.extendStatement = db.prepare<[number, string, number]>(SQL.extend)
  }

  /** Oldest due first: by not-before time, then publish order. */
  lease (params: LeaseParams): RecordRow[] {
    if (params.max <= 0) return []
    return this.leaseStatement.all(params).sort((a, b) => a.not_before - b.not_before || a.seq - b.seq)
  }

  /** Ready records past their deadline become dead; how many. */
  expireAged (now: number): number {
    return this.expireAgedStatement.run({ now, reason: AGED_OUT_REASON }).changes
  }

  /** Leased records whose lease ran out by `now`: their handler hung or their instance died. */
  overdueLeases (now: number): RecordRow[] {
    return this.overdueStatement.all(now)
  }

  /** Whether the lease was still held (by this token) and now runs to expiresAt. */
  extend (id: string, token: number, expiresAt: number): boolean {
    return this.extendStatement.run(expiresAt, id, token).changes === 1
  }
}
