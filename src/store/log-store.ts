import type Database from 'better-sqlite3'
import { keepCount, sanitizeLimit } from './limits.js'
import type { LogLine, LogQuery } from './types.js'

interface LogRow {
  id: number
  time: number
  namespace: string
  function: string
  version: number
  instance: string
  request_id: string | null
  level: LogLine['level']
  stream: LogLine['stream']
  message: string
}

type FunctionKey = [namespace: string, fn: string]

export const MAX_MESSAGE_BYTES = 16 * 1024
export const DEFAULT_LOG_LIMIT = 1000

const COLUMNS = 'id, time, namespace, function, version, instance, request_id, level, stream, message'

export const LOG_SQL = {
  insert: `INSERT INTO logs (time, namespace, function, version, instance, request_id, level, stream, message)
    VALUES (@time, @namespace, @function, @version, @instance, @request_id, @level, @stream, @message)`,
  addStream: 'INSERT OR IGNORE INTO log_streams (namespace, function) VALUES (?, ?)',
  // newest first so that LIMIT keeps the newest; reversed in code
  newest: `SELECT ${COLUMNS} FROM logs
    WHERE namespace = @namespace AND function = @function AND id > @afterId AND time >= @sinceMs
      AND (@requestId IS NULL OR request_id = @requestId)
    ORDER BY id DESC LIMIT @limit`,
  streams: 'SELECT namespace, function FROM log_streams',
  // the id of the oldest line to keep; everything before it goes
  keepFrom: 'SELECT id FROM logs WHERE namespace = ? AND function = ? ORDER BY id DESC LIMIT 1 OFFSET ?',
  deleteBefore: 'DELETE FROM logs WHERE namespace = ? AND function = ? AND id < ?',
  deleteAll: 'DELETE FROM logs WHERE namespace = ? AND function = ?',
  deleteStream: 'DELETE FROM log_streams WHERE namespace = ? AND function = ?'
} as const

// Output of instances, written in batches, read by `roost logs`.
// Every write method expects to run inside a store transaction.
export class LogStore {
  private readonly insertStatement: Database.Statement<[Omit<LogRow, 'id'>], unknown>
  private readonly addStreamStatement: Database.Statement<FunctionKey, unknown>
  private readonly newestStatement: Database.Statement<[NewestParams], LogRow>
  private readonly streamsStatement: Database.Statement<[], { namespace: string, function: string }>
  private readonly keepFromStatement: Database.Statement<[...FunctionKey, number], number>
  private readonly deleteBeforeStatement: Database.Statement<[...FunctionKey, number], unknown>
  private readonly deleteAllStatement: Database.Statement<FunctionKey, unknown>
  private readonly deleteStreamStatement: Database.Statement<FunctionKey, unknown>

  constructor (db: Database.Database) {
    this.insertStatement = db.prepare<[Omit<LogRow, 'id'>], unknown>(LOG_SQL.insert)
    this.addStreamStatement = db.prepare<FunctionKey, unknown>(LOG_SQL.addStream)
    this.newestStatement = db.prepare<[NewestParams], LogRow>(LOG_SQL.newest)
    this.streamsStatement = db.prepare<[], { namespace: string, function: string }>(LOG_SQL.streams)
    this.keepFromStatement = db.prepare<[...FunctionKey, number], number>(LOG_SQL.keepFrom).pluck()
    this.deleteBeforeStatement = db.prepare<[...FunctionKey, number], unknown>(LOG_SQL.deleteBefore)
    this.deleteAllStatement = db.prepare<FunctionKey, unknown>(LOG_SQL.deleteAll)
    this.deleteStreamStatement = db.prepare<FunctionKey, unknown>(LOG_SQL.deleteStream)
  }

  // Returns the id of the last line written, 0 for an empty batch.
  append (lines: readonly LogLine[]): number {
    let lastId = 0
    const seen = new Set<string>()
    for (const line of lines) {
      lastId = Number(this.insertStatement.run(toRow(line)).lastInsertRowid)
      const stream = `${line.namespace}\0${line.function}`
      if (!seen.has(stream)) {
        seen.add(stream)
        this.addStreamStatement.run(line.namespace, line.function)
      }
    }
    return lastId
  }

  query (q: LogQuery): LogLine[] {
    const rows = this.newestStatement.all({
      namespace: q.namespace,
      function: q.function,
      afterId: q.afterId ?? 0,
      sinceMs: q.sinceMs ?? Number.MIN_SAFE_INTEGER,
      requestId: q.requestId ?? null,
      limit: sanitizeLimit(q.limit, DEFAULT_LOG_LIMIT)
    })
    return rows.reverse().map(toLine)
  }

  // Keeps the newest maxPerFunction lines of each function. Each function is
  // one index lookup for the cut-off id and one ranged delete.
  prune (maxPerFunction: number): number {
    const keep = keepCount(maxPerFunction)
    let deleted = 0
    for (const { namespace, function: fn } of this.streamsStatement.all()) {
      deleted += keep === 0 ? this.deleteAll(namespace, fn) : this.deleteOlder([namespace, fn], keep)
    }
    return deleted
  }

  deleteAll (namespace: string, fn: string): number {
    this.deleteStreamStatement.run(namespace, fn)
    return this.deleteAllStatement.run(namespace, fn).changes
  }

  private deleteOlder (key: FunctionKey, keep: number): number {
    const oldestKept = this.keepFromStatement.get(...key, keep - 1)
    if (oldestKept === undefined) return 0 // fewer than `keep` lines
    return this.deleteBeforeStatement.run(...key, oldestKept).changes
  }
}

interface NewestParams {
  namespace: string
  function: string
  afterId: number
  sinceMs: number
  requestId: string | null
  limit: number
}

function toRow (line: LogLine): Omit<LogRow, 'id'> {
  return {
    // one line with a broken clock must not fail its whole batch: stamp it on arrival
    time: Number.isFinite(line.time) ? Math.trunc(line.time) : Date.now(),
    namespace: line.namespace,
    function: line.function,
    version: line.version,
    instance: line.instance,
    request_id: line.requestId,
    level: line.level,
    stream: line.stream,
    message: truncateMessage(line.message)
  }
}

function toLine (row: LogRow): LogLine {
  return {
    id: row.id,
    time: row.time,
    namespace: row.namespace,
    function: row.function,
    version: row.version,
    instance: row.instance,
    requestId: row.request_id,
    level: row.level,
    stream: row.stream,
    message: row.message
  }
}

// One runaway console.log must not bloat the database: a message over
// MAX_MESSAGE_BYTES (UTF-8) keeps its head and says how much was cut. The
// result, marker included, stays within the limit and is valid UTF-8.
export function truncateMessage (message: string): string {
  // a UTF-16 unit is at most 3 UTF-8 bytes: most messages skip the byte count
  if (message.length * 3 <= MAX_MESSAGE_BYTES) return message
  const bytes = Buffer.from(message, 'utf8')
  if (bytes.length <= MAX_MESSAGE_BYTES) return message
  const marker = (cut: number): string => ` …[truncated ${cut} bytes]`
  // the marker's length depends on the count it names: reserve for the largest
  let end = MAX_MESSAGE_BYTES - Buffer.byteLength(marker(bytes.length))
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end-- // not inside a character
  return bytes.subarray(0, end).toString('utf8') + marker(bytes.length - end)
}
