// The dead records of a queue, kept with their body, attributes and every
// attempt, until an operator replays or purges them (`roost dlq …`).
// Runs inside the EventStore's transaction.
import type Database from 'better-sqlite3'
import type { DeadSelection } from './record-types.js'

const SQL = {
  replayOne: `
    UPDATE records SET state = 'ready', attempts = 0, not_before = @now, deadline = NULL, dead_reason = NULL, finished_at = NULL
    WHERE namespace = @namespace AND queue = @queue AND state = 'dead' AND id = @id`,
  replayAll: `
    UPDATE records SET state = 'ready', attempts = 0, not_before = @now, deadline = NULL, dead_reason = NULL, finished_at = NULL
    WHERE namespace = @namespace AND queue = @queue AND state = 'dead'`,
  purgeOne: "DELETE FROM records WHERE namespace = @namespace AND queue = @queue AND state = 'dead' AND id = @id",
  purgeAll: "DELETE FROM records WHERE namespace = @namespace AND queue = @queue AND state = 'dead'"
} as const

interface Target {
  namespace: string
  queue: string
  now?: number
  id?: string
}

export class DeadLetterBox {
  private readonly replayOne: Database.Statement<[Target]>
  private readonly replayAll: Database.Statement<[Target]>
  private readonly purgeOne: Database.Statement<[Target]>
  private readonly purgeAll: Database.Statement<[Target]>

  constructor (db: Database.Database) {
    this.replayOne = db.prepare<[Target]>(SQL.replayOne)
    this.replayAll = db.prepare<[Target]>(SQL.replayAll)
    this.purgeOne = db.prepare<[Target]>(SQL.purgeOne)
    this.purgeAll = db.prepare<[Target]>(SQL.purgeAll)
  }

  /**
   * Dead records back to ready, due now, with a fresh set of attempts (their
   * history stays). A replay is not held to the queue's maxDepth: the records
   * are stored already, so it cannot grow what the bound protects.
   */
  replay (namespace: string, queue: string, selection: DeadSelection, now: number): number {
    if ('all' in selection) return this.replayAll.run({ namespace, queue, now }).changes
    let count = 0
    for (const id of selection.ids) count += this.replayOne.run({ namespace, queue, now, id }).changes
    return count
  }

  /** Dead records deleted, attempts with them. */
  purge (namespace: string, queue: string, selection: DeadSelection): number {
    if ('all' in selection) return this.purgeAll.run({ namespace, queue }).changes
    let count = 0
    for (const id of selection.ids) count += this.purgeOne.run({ namespace, queue, id }).changes
    return count
  }
}
