import type Database from 'better-sqlite3'
import { keepCount, sanitizeLimit } from './limits.js'
import type { EventQuery, NewEvent, StoredEvent } from './types.js'

interface EventRow {
  id: number
  time: string
  namespace: string
  kind: string
  name: string
  type: StoredEvent['type']
  reason: string
  message: string
}

type ObjectKey = [namespace: string, kind: string, name: string]

export const DEFAULT_EVENT_LIMIT = 50

export const EVENT_SQL = {
  insert: `INSERT INTO events (time, namespace, kind, name, type, reason, message)
    VALUES (@time, @namespace, @kind, @name, @type, @reason, @message)
    RETURNING id, time, namespace, kind, name, type, reason, message`,
  // newest first so that LIMIT keeps the newest; reversed in code
  newest: `SELECT id, time, namespace, kind, name, type, reason, message FROM events
    WHERE namespace = ? AND kind = ? AND name = ? ORDER BY id DESC LIMIT ?`,
  objects: 'SELECT DISTINCT namespace, kind, name FROM events',
  // the id of the oldest event to keep; everything before it goes
  keepFrom: `SELECT id FROM events WHERE namespace = ? AND kind = ? AND name = ?
    ORDER BY id DESC LIMIT 1 OFFSET ?`,
  deleteBefore: 'DELETE FROM events WHERE namespace = ? AND kind = ? AND name = ? AND id < ?',
  deleteObject: 'DELETE FROM events WHERE namespace = ? AND kind = ? AND name = ?'
} as const

// What happened to an object, for people (like `kubectl get events`).
export class EventLog {
  private readonly insertStatement: Database.Statement<[Omit<EventRow, 'id'>], EventRow>
  private readonly newestStatement: Database.Statement<[...ObjectKey, number], EventRow>
  private readonly objectsStatement: Database.Statement<[], { namespace: string, kind: string, name: string }>
  private readonly keepFromStatement: Database.Statement<[...ObjectKey, number], number>
  private readonly deleteBeforeStatement: Database.Statement<[...ObjectKey, number], unknown>
  private readonly deleteObjectStatement: Database.Statement<ObjectKey, unknown>

  constructor (db: Database.Database) {
    this.insertStatement = db.prepare<[Omit<EventRow, 'id'>], EventRow>(EVENT_SQL.insert)
    this.newestStatement = db.prepare<[...ObjectKey, number], EventRow>(EVENT_SQL.newest)
    this.objectsStatement = db.prepare<[], { namespace: string, kind: string, name: string }>(EVENT_SQL.objects)
    this.keepFromStatement = db.prepare<[...ObjectKey, number], number>(EVENT_SQL.keepFrom).pluck()
    this.deleteBeforeStatement = db.prepare<[...ObjectKey, number], unknown>(EVENT_SQL.deleteBefore)
    this.deleteObjectStatement = db.prepare<ObjectKey, unknown>(EVENT_SQL.deleteObject)
  }

  record (event: NewEvent): StoredEvent {
    return this.insertStatement.get({
      time: event.time ?? new Date().toISOString(),
      namespace: event.namespace,
      kind: event.kind,
      name: event.name,
      type: event.type,
      reason: event.reason,
      message: event.message
    }) as EventRow
  }

  list (query: EventQuery): StoredEvent[] {
    const limit = sanitizeLimit(query.limit, DEFAULT_EVENT_LIMIT)
    return this.newestStatement.all(query.namespace, query.kind, query.name, limit).reverse()
  }

  // Keeps the newest maxPerObject events of each object. Runs inside a
  // transaction (the caller's).
  prune (maxPerObject: number): number {
    const keep = keepCount(maxPerObject)
    let deleted = 0
    for (const { namespace, kind, name } of this.objectsStatement.all()) {
      deleted += keep === 0
        ? this.deleteObjectStatement.run(namespace, kind, name).changes
        : this.deleteOlder([namespace, kind, name], keep)
    }
    return deleted
  }

  private deleteOlder (key: ObjectKey, keep: number): number {
    const oldestKept = this.keepFromStatement.get(...key, keep - 1)
    if (oldestKept === undefined) return 0 // fewer than `keep` events
    return this.deleteBeforeStatement.run(...key, oldestKept).changes
  }
}
