// Finished records (succeeded, cancelled) are kept for their view and their
// idempotency key for the queue's retention, then deleted; dead ones stay
// until purged. Runs inside the EventStore's transaction.
import type Database from 'better-sqlite3'

const SQL = {
  prune: 'DELETE FROM records WHERE seq IN (SELECT seq FROM records WHERE retain_until IS NOT NULL AND retain_until <= ? LIMIT ?)'
} as const

export class Pruner {
  private readonly pruneStatement: Database.Statement<[number, number]>

  constructor (db: Database.Database) {
    this.pruneStatement = db.prepare<[number, number]>(SQL.prune)
  }

  /** At most `limit` records past their retention deleted (a bound keeps one transaction short); how many. */
  prune (now: number, limit: number): number {
    return this.pruneStatement.run(now, limit).changes
  }
}
