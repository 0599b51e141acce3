import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { isRoostError, StartupError } from '../errors/index.js'
import { BlobStore } from './blob-store.js'
import { unlockDatabase } from './data-key.js'
import { EnvSealer } from './env-sealing.js'
import { EventLog } from './event-log.js'
import { createPrivateFile, privateDirectory, restrictFiles } from './private-files.js'
import { LogStore } from './log-store.js'
import { migrate } from './migrations.js'
import { ResourceTable } from './resource-table.js'
import { RouteReservationTable } from './route-reservation-table.js'
import { Sequence } from './sequence.js'
import { TokenTable } from './token-table.js'
import type {
  CreatedToken, EventQuery, LogLine, LogQuery, NewEvent, PutOptions, PutResult, ResourceBody, RouteReservation, StoredEvent,
  StoredResource, StoredVersion, StoreOptions, TokenInfo, TokenScope, VersionBody, WatchListener
} from './types.js'
import { VersionTable } from './version-table.js'
import { warnListenerError, WatchFeed } from './watch-feed.js'

export const DATABASE_FILE = 'roost.db'
export const BLOB_FOLDER = 'blobs'
export const KEY_FILE = join('keys', 'data.key')
const BUSY_TIMEOUT_MS = 5000

export const SETTING_SQL = {
  get: 'SELECT value FROM settings WHERE key = ?',
  set: 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'
} as const

type TransactionRunner = Database.Transaction<(fn: () => unknown) => unknown>

// The platform's state: one SQLite file `<dir>/roost.db` plus content-addressed
// blobs under `<dir>/blobs/`. One process owns it and writes; another process
// may open the same folder too (WAL lets it read while the owner writes, and
// its writes wait for the lock), but watch events reach only the listeners of
// the Store object that made the write.
//
// Files are the platform user's only: the folder 0700, the database with its
// -wal and -shm 0600, and env values sealed with a key kept in a file apart
// (StoreOptions.keyFile), so that a copy of the database reveals none.
//
// Everything is synchronous: better-sqlite3 runs a statement on the calling
// thread, which is also what makes "listeners are called right after commit"
// simple and exact.
export class Store {
  readonly dir: string
  readonly blobs: BlobStore

  private readonly feed: WatchFeed
  private readonly sequence: Sequence
  private readonly resources: ResourceTable
  private readonly versions: VersionTable
  private readonly events: EventLog
  private readonly logs: LogStore
  private readonly tokens: TokenTable
  private readonly reservations: RouteReservationTable
  private readonly getSettingStatement: Database.Statement<[string], string>
  private readonly setSettingStatement: Database.Statement<[string, string], unknown>
  private readonly runTransaction: TransactionRunner
  private depth = 0 // nesting of transaction() calls

  static open (dir: string, options: StoreOptions = {}): Store {
    const root = resolve(dir)
    privateDirectory(root)
    const db = openDatabase(join(root, DATABASE_FILE))
    try {
      const sealer = new EnvSealer(unlockDatabase(db, resolve(root, options.keyFile ?? KEY_FILE)))
      return new Store(root, db, sealer, options)
    } catch (error) {
      db.close()
      throw error
    }
  }

  // Every statement is prepared here, once.
  private constructor (dir: string, private readonly db: Database.Database, sealer: EnvSealer, options: StoreOptions) {
    this.dir = dir
    this.blobs = new BlobStore(join(dir, BLOB_FOLDER))
    this.feed = new WatchFeed(options.onListenerError ?? warnListenerError)
    this.sequence = new Sequence(db)
    this.resources = new ResourceTable(db, this.sequence, this.feed, sealer)
    this.versions = new VersionTable(db, this.sequence, this.feed, sealer)
    this.events = new EventLog(db)
    this.logs = new LogStore(db)
    this.tokens = new TokenTable(db)
    this.reservations = new RouteReservationTable(db)
    this.getSettingStatement = db.prepare<[string], string>(SETTING_SQL.get).pluck()
    this.setSettingStatement = db.prepare<[string, string], unknown>(SETTING_SQL.set)
    this.runTransaction = db.transaction(runSynchronously)
    this.sealPlainValues()
  }

  get isOpen (): boolean {
    return this.db.open
  }

  close (): void {
    if (!this.db.open) return
    if (this.depth > 0) throw new Error('the store cannot be closed inside one of its transactions')
    this.feed.clear()
    this.db.close()
  }

  // Runs fn in one transaction. A call inside another joins it as a savepoint:
  // if the inner fn throws, its writes and its watch events are undone while
  // the outer transaction may carry on. Watch events go out only after the
  // outermost commit, and not at all on rollback.
  //
  // The outermost transaction is IMMEDIATE: it takes the write lock at once
  // (waiting up to the busy timeout) instead of failing mid-way when another
  // process wrote between our read and our write.
  transaction<T> (fn: () => T): T {
    const outermost = this.depth === 0
    const mark = this.feed.mark()
    this.depth++
    let result: T
    try {
      result = this.runTransaction.immediate(fn) as T
    } catch (error) {
      this.feed.rollbackTo(mark)
      throw error
    } finally {
      this.depth--
    }
    if (outermost) this.feed.commit()
    return result
  }

  // Listeners run synchronously after each commit, in resourceVersion order.
  // One that throws is reported (StoreOptions.onListenerError) and skipped.
  // The event object is frozen: it is shared by all listeners.
  watch (listener: WatchListener): () => void {
    return this.feed.subscribe(listener)
  }

  // The resourceVersion of the latest write; a list read now is at least this new.
  currentResourceVersion (): number {
    return this.sequence.current()
  }

  // ---- resources

  getResource<S = unknown, T = unknown> (kind: string, namespace: string, name: string): StoredResource<S, T> | undefined {
    return this.resources.get<S, T>(kind, namespace, name)
  }

  listResources<S = unknown, T = unknown> (kind: string, namespace?: string): Array<StoredResource<S, T>> {
    return this.resources.list<S, T>(kind, namespace)
  }

  putResource<S = unknown> (kind: string, namespace: string, name: string, body: ResourceBody<S>, options?: PutOptions): PutResult<S> {
    return this.transaction(() => this.resources.put(kind, namespace, name, body, options))
  }

  putStatus<T = unknown> (kind: string, namespace: string, name: string, status: T, options?: PutOptions): StoredResource<unknown, T> {
    return this.transaction(() => this.resources.putStatus(kind, namespace, name, status, options))
  }

  deleteResource (kind: string, namespace: string, name: string, options?: PutOptions): boolean {
    return this.transaction(() => this.resources.delete(kind, namespace, name, options))
  }

  // ---- versions

  insertVersion<C = unknown> (namespace: string, fn: string, body: VersionBody<C>): StoredVersion<C> {
    return this.transaction(() => this.versions.insert(namespace, fn, body))
  }

  getVersion<C = unknown> (namespace: string, fn: string, number: number): StoredVersion<C> | undefined {
    return this.versions.get<C>(namespace, fn, number)
  }

  listVersions<C = unknown> (namespace: string, fn: string): Array<StoredVersion<C>> {
    return this.versions.list<C>(namespace, fn)
  }

  latestVersion<C = unknown> (namespace: string, fn: string): StoredVersion<C> | undefined {
    return this.versions.latest<C>(namespace, fn)
  }

  deleteVersions (namespace: string, fn: string): number {
    return this.transaction(() => this.versions.deleteAll(namespace, fn))
  }

  // ---- events

  recordEvent (event: NewEvent): StoredEvent {
    return this.transaction(() => this.events.record(event))
  }

  listEvents (query: EventQuery): StoredEvent[] {
    return this.events.list(query)
  }

  // Keeps the newest maxPerObject events of every object.
  pruneEvents (maxPerObject: number): number {
    return this.transaction(() => this.events.prune(maxPerObject))
  }

  // ---- logs

  appendLogs (lines: readonly LogLine[]): number {
    return this.transaction(() => this.logs.append(lines))
  }

  queryLogs (query: LogQuery): LogLine[] {
    return this.logs.query(query)
  }

  pruneLogs (maxPerFunction: number): number {
    return this.transaction(() => this.logs.prune(maxPerFunction))
  }

  deleteLogs (namespace: string, fn: string): number {
    return this.transaction(() => this.logs.deleteAll(namespace, fn))
  }

  // ---- API tokens

  createToken (scope: TokenScope): CreatedToken {
    return this.transaction(() => this.tokens.create(scope))
  }

  lookupToken (token: string): { id: string, namespace: string } | undefined {
    return this.tokens.lookup(token)
  }

  listTokens (): TokenInfo[] {
    return this.tokens.list()
  }

  deleteToken (id: string): boolean {
    return this.transaction(() => this.tokens.delete(id))
  }

  // ---- route reservations (what overlaps what is the API's rule)

  reserveRoute (prefix: string, namespace: string): { reservation: RouteReservation, changed: boolean } {
    return this.transaction(() => this.reservations.put(prefix, namespace))
  }

  listRouteReservations (): RouteReservation[] {
    return this.reservations.list()
  }

  releaseRoute (prefix: string): boolean {
    return this.transaction(() => this.reservations.delete(prefix))
  }

  // ---- settings

  getSetting (key: string): string | undefined {
    return this.getSettingStatement.get(key)
  }

  setSetting (key: string, value: string): void {
    this.transaction(() => this.setSettingStatement.run(key, value))
  }

  // A database written before env values were sealed is sealed at its first
  // open. secure_delete zeroes the freed plain bytes, and the checkpoint
  // empties the WAL, which still holds the old pages.
  private sealPlainValues (): void {
    this.db.pragma('secure_delete = ON')
    try {
      const sealed = this.transaction(() => this.resources.sealPlainRows() + this.versions.sealPlainRows())
      if (sealed > 0) this.db.pragma('wal_checkpoint(TRUNCATE)')
    } finally {
      this.db.pragma('secure_delete = OFF')
    }
  }
}

// better-sqlite3 commits as soon as the function returns: an async function
// would commit half-done, with the rest running later outside the transaction.
function runSynchronously (fn: () => unknown): unknown {
  const result = fn()
  if (isThenable(result)) {
    throw new TypeError('a store transaction must be synchronous: the function returned a promise, so it was rolled back')
  }
  return result
}

function isThenable (value: unknown): boolean {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
}

function openDatabase (file: string): Database.Database {
  let db: Database.Database | undefined
  const companions = [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]
  try {
    // SQLite creates -wal and -shm with the mode of the database file, which
    // it would itself create with the umask's (0644): it is created first, 0600.
    createPrivateFile(file)
    restrictFiles(companions)
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS })
    configure(db)
    migrate(db)
    restrictFiles(companions)
    return db
  } catch (error) {
    db?.close()
    if (isRoostError(error)) throw error
    throw new StartupError(`cannot open the store at ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      hint: 'check that the folder is writable and that the file is a Roost database'
    })
  }
}

function configure (db: Database.Database): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  // WAL: readers (a second process, e.g. a CLI) never block the writer.
  // synchronous = NORMAL in WAL mode is durable against a crash of the
  // process, kill -9 included: a commit is in the WAL file (the OS's page
  // cache) before commit returns, and the OS writes it out even though the
  // process is gone. Only an OS crash or power loss can lose the last few
  // commits (never corrupt the database); FULL would fsync on every commit to
  // cover that too, at a large cost per write.
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  if (mode !== 'wal') {
    throw new StartupError(`the store needs SQLite's WAL journal but got "${String(mode)}"`, {
      hint: 'put the data directory on a local file system'
    })
  }
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
}
