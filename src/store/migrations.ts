import type Database from 'better-sqlite3'
import { StartupError } from '../errors/index.js'

// Schema changes, in order. Step i brings the database from user_version i to
// i + 1. A step is never edited once released: add a new one instead.
//
// Notes that hold for every table:
// - STRICT tables, so a wrong type is an error instead of silently stored.
// - rowid tables carry their rowid as the hidden last column of every index, so
//   an index on (namespace, function) already serves "ORDER BY id" per function.
// - AUTOINCREMENT on events and logs: ids are never reused after a delete, so a
//   reader following with afterId can never skip a line.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sequence (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  INSERT INTO sequence (name, value) VALUES ('resourceVersion', 0);

  CREATE TABLE resources (
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    uid TEXT NOT NULL UNIQUE,
    resource_version INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    labels TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE versions (
    namespace TEXT NOT NULL,
    function TEXT NOT NULL,
    number INTEGER NOT NULL,
    bundle_hash TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (namespace, function, number)
  ) STRICT, WITHOUT ROWID;

  -- The highest version number ever handed out per function: it survives
  -- deleteVersions so that a number always names one bundle, forever.
  CREATE TABLE version_counters (
    namespace TEXT NOT NULL,
    function TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (namespace, function)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    namespace TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_by_object ON events (namespace, kind, name);

  CREATE TABLE logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    namespace TEXT NOT NULL,
    function TEXT NOT NULL,
    version INTEGER NOT NULL,
    instance TEXT NOT NULL,
    request_id TEXT,
    level TEXT NOT NULL,
    stream TEXT NOT NULL,
    message TEXT NOT NULL
  ) STRICT;
  CREATE INDEX logs_by_function ON logs (namespace, function);

  -- Every function that has log lines, so that pruning visits each one by
  -- index instead of scanning all lines to find them.
  CREATE TABLE log_streams (
    namespace TEXT NOT NULL,
    function TEXT NOT NULL,
    PRIMARY KEY (namespace, function)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    description TEXT,
    created_at TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // Path prefixes the admin reserved for one namespace: only its functions may
  // route at, under or above them.
  `
  CREATE TABLE route_reservations (
    prefix TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `
]

export function schemaVersion (db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

// Applies the missing steps, each in its own IMMEDIATE transaction. The version
// is read again inside the transaction: two processes opening the same fresh
// directory at once then apply each step exactly once between them.
export function migrate (db: Database.Database, steps: readonly string[] = MIGRATIONS): void {
  const found = schemaVersion(db)
  if (found > steps.length) {
    throw new StartupError(`the database has schema version ${found}, newer than this Roost knows (${steps.length})`, {
      hint: 'upgrade Roost, or point it at another data directory'
    })
  }
  for (let target = found + 1; target <= steps.length; target++) {
    const step = steps[target - 1] as string
    db.transaction(() => {
      if (schemaVersion(db) >= target) return
      db.exec(step)
      db.pragma(`user_version = ${target}`)
    }).immediate()
  }
}
