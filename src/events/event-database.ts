import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { isRoostError, StartupError } from '../errors/index.js'
import { createPrivateFile, migrate, privateDirectory, restrictFiles } from '../store/index.js'
import { EVENT_MIGRATIONS } from './event-schema.js'

// The records live in a file of their own beside the store's roost.db, not in
// it: SQLite has one writer per file, and queue traffic (a commit per publish
// batch, lease and settlement, each fsynced) would otherwise hold the write
// lock the control plane needs for applies, status and logs, and churn the WAL
// that its readers replay. Nothing needs a transaction across the two: a
// record names its function by namespace and queue, not by a foreign key.
export const EVENTS_DATABASE_FILE = 'events.db'
const BUSY_TIMEOUT_MS = 5000

/**
 * full: every commit is fsynced before it returns (publish and acknowledgement
 * survive a power loss, not only kill -9). normal: a commit reaches the OS
 * before it returns (kill -9 loses nothing; a power loss may lose the last
 * commits, never corrupt the file). Documented opt-down for throughput.
 */
export type Durability = 'full' | 'normal'

export function openEventDatabase (dir: string, durability: Durability): Database.Database {
  const root = resolve(dir)
  const file = join(root, EVENTS_DATABASE_FILE)
  const companions = [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]
  let db: Database.Database | undefined
  try {
    // Bodies are the users' data: the file and its -wal/-shm are the platform user's only.
    privateDirectory(root)
    createPrivateFile(file)
    restrictFiles(companions)
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS })
    configure(db, durability)
    migrate(db, EVENT_MIGRATIONS)
    restrictFiles(companions)
    return db
  } catch (error) {
    db?.close()
    if (isRoostError(error)) throw error
    throw new StartupError(`cannot open the events database at ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      hint: 'check that the folder is writable and that the file is a Roost events database'
    })
  }
}

function configure (db: Database.Database, durability: Durability): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  if (mode !== 'wal') {
    throw new StartupError(`the events database needs SQLite's WAL journal but got "${String(mode)}"`, {
      hint: 'put the data directory on a local file system'
    })
  }
  // In WAL mode FULL syncs the WAL at each commit: "publish answered" and
  // "acknowledged" then mean on disk, which is the promise the queue makes.
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma('foreign_keys = ON')
}
