import type Database from 'better-sqlite3'
import { canonicalJson } from './canonical-json.js'
import type { EnvSealer, SealedPlace } from './env-sealing.js'
import { SEALED_PREFIX } from './secret-box.js'
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
  deleteAll: `DELETE FROM versions WHERE namespace = ? AND function = ? RETURNING ${COLUMNS}`,
  all: `SELECT ${COLUMNS} FROM versions`,
  // a change of storage form only (sealing)
  rewrite: 'UPDATE versions SET config = ?, config_hash = ? WHERE namespace = ? AND function = ? AND number = ?'
} as const

// Immutable versions of a function: inserted, read, deleted, never updated.
// Inserts and deletes go on the watch feed as kind 'Version', named after the
// function, with a resourceVersion from the same global sequence as resources.
// The config's env values are sealed, and so is the config hash: it is a hash
// of the env values too, and would let a guess of a value be checked offline.
export class VersionTable {
  private readonly nextNumberStatement: Database.Statement<FunctionKey, number>
  private readonly insertStatement: Database.Statement<[VersionRow], unknown>
  private readonly getStatement: Database.Statement<[...FunctionKey, number], VersionRow>
  private readonly listStatement: Database.Statement<FunctionKey, VersionRow>
  private readonly latestStatement: Database.Statement<FunctionKey, VersionRow>
  private readonly deleteAllStatement: Database.Statement<FunctionKey, VersionRow>
  private readonly allStatement: Database.Statement<[], VersionRow>
  private readonly rewriteStatement: Database.Statement<[string, string, ...FunctionKey, number], unknown>

  constructor (db: Database.Database, private readonly sequence: Sequence, private readonly feed: WatchFeed, private readonly sealer: EnvSealer) {
    this.nextNumberStatement = db.prepare<FunctionKey, number>(VERSION_SQL.nextNumber).pluck()
    this.insertStatement = db.prepare<[VersionRow], unknown>(VERSION_SQL.insert)
    this.getStatement = db.prepare<[...FunctionKey, number], VersionRow>(VERSION_SQL.get)
    this.listStatement = db.prepare<FunctionKey, VersionRow>(VERSION_SQL.list)
    this.latestStatement = db.prepare<FunctionKey, VersionRow>(VERSION_SQL.latest)
    this.deleteAllStatement = db.prepare<FunctionKey, VersionRow>(VERSION_SQL.deleteAll)
    this.allStatement = db.prepare<[], VersionRow>(VERSION_SQL.all)
    this.rewriteStatement = db.prepare<[string, string, ...FunctionKey, number], unknown>(VERSION_SQL.rewrite)
  }

  insert<C> (namespace: string, fn: string, body: VersionBody<C>): StoredVersion<C> {
    const place = placeOf(namespace, fn)
    const row: VersionRow = {
      namespace,
      function: fn,
      number: this.nextNumberStatement.get(namespace, fn) as number,
      bundle_hash: body.bundleHash,
      config_hash: this.sealer.sealText(place, 'configHash', body.configHash),
      config: canonicalJson(this.sealer.seal(place, body.config)),
      created_at: new Date().toISOString()
    }
    this.insertStatement.run(row)
    this.emit('ADDED', row)
    return this.toVersion<C>(row)
  }

  get<C> (namespace: string, fn: string, number: number): StoredVersion<C> | undefined {
    const row = this.getStatement.get(namespace, fn, number)
    return row === undefined ? undefined : this.toVersion<C>(row)
  }

  list<C> (namespace: string, fn: string): Array<StoredVersion<C>> {
    return this.listStatement.all(namespace, fn).map((row) => this.toVersion<C>(row))
  }

  latest<C> (namespace: string, fn: string): StoredVersion<C> | undefined {
    const row = this.latestStatement.get(namespace, fn)
    return row === undefined ? undefined : this.toVersion<C>(row)
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
      object: this.toVersion(row)
    })
  }

  // Seals what a database from before sealing still holds in plain text.
  sealPlainRows (): number {
    let sealed = 0
    for (const row of this.allStatement.all()) {
      const place = placeOf(row.namespace, row.function)
      const config = JSON.parse(row.config) as unknown
      const plainHash = !row.config_hash.startsWith(SEALED_PREFIX)
      if (!plainHash && !this.sealer.hasPlain(config)) continue
      const hash = plainHash ? this.sealer.sealText(place, 'configHash', row.config_hash) : row.config_hash
      this.rewriteStatement.run(canonicalJson(this.sealer.seal(place, config)), hash, row.namespace, row.function, row.number)
      sealed++
    }
    return sealed
  }

  private toVersion<C> (row: VersionRow): StoredVersion<C> {
    const place = placeOf(row.namespace, row.function)
    return {
      namespace: row.namespace,
      function: row.function,
      number: row.number,
      bundleHash: row.bundle_hash,
      configHash: this.sealer.openText(place, 'configHash', row.config_hash),
      config: this.sealer.open(place, JSON.parse(row.config)) as C,
      createdAt: row.created_at
    }
  }
}

function placeOf (namespace: string, fn: string): SealedPlace {
  return { kind: 'Version', namespace, name: fn }
}
