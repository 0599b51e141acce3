import type Database from 'better-sqlite3'

export const SEQUENCE_SQL = {
  next: `UPDATE sequence SET value = value + 1 WHERE name = 'resourceVersion' RETURNING value`,
  current: `SELECT value FROM sequence WHERE name = 'resourceVersion'`
} as const

// The global resourceVersion, like etcd's revision: one counter for every write
// of every resource and version, so the watch feed has a single total order.
// It lives in a table (not in memory) so that it rolls back with a transaction
// and is shared with another process that opens the same database.
export class Sequence {
  private readonly nextStatement: Database.Statement<[], number>
  private readonly currentStatement: Database.Statement<[], number>

  constructor (db: Database.Database) {
    this.nextStatement = db.prepare<[], number>(SEQUENCE_SQL.next).pluck()
    this.currentStatement = db.prepare<[], number>(SEQUENCE_SQL.current).pluck()
  }

  // Only inside a transaction: the bump is part of the write it numbers.
  next (): number {
    return this.nextStatement.get() as number
  }

  current (): number {
    return this.currentStatement.get() ?? 0
  }
}
