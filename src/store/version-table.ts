import type Database from 'better-sqlite3'
import { canonicalJson } from './canonical-json.js'
import type { Sequence } from './sequence.js'
import type { StoredVersion, VersionBody } from './types.js'
import type { WatchFeed } from './watch-feed.js'

interface VersionRow {
  namespace: string
  function: string
  number: number
  bundle_hash: string
  config_hash: string
  config: string
  created_at: string
}

type FunctionKey = [namespace: string, fn: string]

const COLUMNS = 'namespace, function, number, bundle_hash, config_hash, config, created_at'

export const VERSION_SQL = {
  // the high-water mark, not max(number): numbers deleted stay used
  nextNumber: `INSERT INTO version_counters (namespace, function, last) VALUES (?, ?, 1)
    ON CONFLICT (namespace, function) DO UPDATE SET last = last + 1
    RETURNING last`,
  insert: `INSERT INTO versions (${COLUMNS})
    VALUES (@namespace, @function, @number, @bundle_hash, @config_hash, @config, @created_at)`,
  get: `SELECT ${COLUMNS} FROM versions WHERE namespace = ? AND function = ? AND number = ?`,
  list: `SELECT ${COLUMNS} FROM versions WHERE namespace = ? AND function = ? ORDER BY number`,
  latest: `SELECT ${COLUMNS} FROM versions WHERE namespace = ? AND function = ? ORDER BY number DESC LIMIT 1`,
  deleteAll: `DELETE FROM versions WHERE namespace = ? AND function = ? RETURNING ${COLUMNS}`
} as const

// Immutable versions of a function: inserted, read, deleted, never updated.
// Inserts and deletes go on the watch feed as kind 'Version', named after the
// function, with a resourceVersion from the same global sequence as resources.
export class VersionTable {
  private readonly nextNumberStatement: Database.Statement<FunctionKey, number>
  private readonly insertStatement: Database.Statement<[VersionRow], unknown>
  private readonly getStatement: Database.Statement<[...FunctionKey, number], VersionRow>
  private readonly listStatement: Database.Statement<FunctionKey, VersionRow>
  private readonly latestStatement: Database.Statement<FunctionKey, VersionRow>
  private readonly deleteAllStatement: Database.Statement<FunctionKey, VersionRow>

  constructor (db: Database.Database, private readonly sequence: Sequence, private readonly feed: WatchFeed) {
    this.nextNumberStatement = db.prepare<FunctionKey, number>(VERSION_SQL.nextNumber).pluck()
    this.insertStatement = db.prepare<[VersionRow], unknown>(VERSION_SQL.insert)
    this.getStatement = db.prepare<[...FunctionKey, number], VersionRow>(VERSION_SQL.get)
    this.listStatement = db.prepare<FunctionKey, VersionRow>(VERSION_SQL.list)
    this.latestStatement = db.prepare<FunctionKey, VersionRow>(VERSION_SQL.latest)
    this.deleteAllStatement = db.prepare<FunctionKey, VersionRow>(VERSION_SQL.deleteAll)
  }

  insert<C> (namespace: string, fn: string, body: VersionBody<C>): StoredVersion<C> {
    const row: VersionRow = {
      namespace,
      function: fn,
      number: this.nextNumberStatement.get(namespace, fn) as number,
      bundle_hash: body.bundleHash,
      config_hash: body.configHash,
      config: canonicalJson(body.config),
      created_at: new Date().toISOString()
    }
    this.insertStatement.run(row)
    this.emit('ADDED', row)
    return toVersion<C>(row)
  }

  get<C> (namespace: string, fn: string, number: number): StoredVersion<C> | undefined {
    const row = this.getStatement.get(namespace, fn, number)
    return row === undefined ? undefined : toVersion<C>(row)
  }

  list<C> (namespace: string, fn: string): Array<StoredVersion<C>> {
    return this.listStatement.all(namespace, fn).map((row) => toVersion<C>(row))
  }

  latest<C> (namespace: string, fn: string): StoredVersion<C> | undefined {
    const row = this.latestStatement.get(namespace, fn)
    return row === undefined ? undefined : toVersion<C>(row)
  }

  deleteAll (namespace: string, fn: string): number {
    const rows = this.deleteAllStatement.all(namespace, fn)
    // RETURNING gives no order guarantee; watchers get the deletions in number order
    rows.sort((a, b) => a.number - b.number)
    for (const row of rows) this.emit('DELETED', row)
    return rows.length
  }

  private emit (type: 'ADDED' | 'DELETED', row: VersionRow): void {
    this.feed.push({
      type,
      kind: 'Version',
      namespace: row.namespace,
      name: row.function,
      resourceVersion: this.sequence.next(),
      object: toVersion(row)
    })
  }
}

function toVersion<C> (row: VersionRow): StoredVersion<C> {
  return {
    namespace: row.namespace,
    function: row.function,
    number: row.number,
    bundleHash: row.bundle_hash,
    configHash: row.config_hash,
    config: JSON.parse(row.config) as C,
    createdAt: row.created_at
  }
}
