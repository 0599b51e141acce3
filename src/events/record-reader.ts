// Reads of records and queues: the views behind `roost invocations get`,
// listings, and the numbers the autoscaler and the dispatcher work from.
import type Database from 'better-sqlite3'
import type { AttemptRow, RecordRow } from './record-row.js'
import { recordView } from './record-row.js'
import type { QueueStats, RecordState, RecordView } from './record-types.js'

interface StatsRow {
  namespace: string
  queue: string
  waiting: number
  leased: number
  dead: number
  last_completed_at: number | null
}

export interface ListQuery {
  /** Only records in this state. */
  state?: RecordState
  /** Records published after this seq (a RecordView's seq): the next page. */
  afterSeq?: number
  limit?: number
}

export const DEFAULT_LIST_LIMIT = 100
export const MAX_LIST_LIMIT = 1000

const SQL = {
  byId: 'SELECT * FROM records WHERE id = ?',
  attempts: 'SELECT * FROM attempts WHERE record_seq = ? ORDER BY delivery',
  list: 'SELECT * FROM records WHERE namespace = ? AND queue = ? AND seq > ? ORDER BY seq LIMIT ?',
  listInState: 'SELECT * FROM records WHERE namespace = ? AND queue = ? AND state = ? AND seq > ? ORDER BY seq LIMIT ?',
  stats: 'SELECT * FROM queue_stats WHERE namespace = ? AND queue = ?',
  allStats: 'SELECT * FROM queue_stats ORDER BY namespace, queue',
  nextDue: "SELECT min(not_before) FROM records WHERE namespace = ? AND queue = ? AND state = 'ready'",
  nextLeaseExpiry: "SELECT min(lease_expires_at) FROM records WHERE state = 'leased'"
} as const

export class RecordReader {
  private readonly byId: Database.Statement<[string], RecordRow>
  private readonly attempts: Database.Statement<[number], AttemptRow>
  private readonly list: Database.Statement<[string, string, number, number], RecordRow>
  private readonly listInState: Database.Statement<[string, string, RecordState, number, number], RecordRow>
  private readonly stats: Database.Statement<[string, string], StatsRow>
  private readonly allStats: Database.Statement<[], StatsRow>
  private readonly nextDue: Database.Statement<[string, string], number | null>
  private readonly nextLeaseExpiryStatement: Database.Statement<[], number | null>

  constructor (db: Database.Database) {
    this.byId = db.prepare<[string], RecordRow>(SQL.byId)
    this.attempts = db.prepare<[number], AttemptRow>(SQL.attempts)
    this.list = db.prepare<[string, string, number, number], RecordRow>(SQL.list)
    this.listInState = db.prepare<[string, string, RecordState, number, number], RecordRow>(SQL.listInState)
    this.stats = db.prepare<[string, string], StatsRow>(SQL.stats)
    this.allStats = db.prepare<[], StatsRow>(SQL.allStats)
    this.nextDue = db.prepare<[string, string], number | null>(SQL.nextDue).pluck()
    this.nextLeaseExpiryStatement = db.prepare<[], number | null>(SQL.nextLeaseExpiry).pluck()
  }

  get (id: string): RecordView | undefined {
    const row = this.byId.get(id)
    return row === undefined ? undefined : this.view(row)
  }

  listRecords (namespace: string, queue: string, query: ListQuery = {}): RecordView[] {
    const after = query.afterSeq ?? 0
    const limit = listLimit(query.limit)
    const rows = query.state === undefined
      ? this.list.all(namespace, queue, after, limit)
      : this.listInState.all(namespace, queue, query.state, after, limit)
    return rows.map((row) => this.view(row))
  }

  queueStats (namespace: string, queue: string): QueueStats {
    return statsOf(this.stats.get(namespace, queue) ?? { namespace, queue, waiting: 0, leased: 0, dead: 0, last_completed_at: null })
  }

  everyQueueStats (): QueueStats[] {
    return this.allStats.all().map(statsOf)
  }

  /** The earliest not-before time of the queue's ready records (it may be past: due now); undefined when none wait. */
  nextDueAt (namespace: string, queue: string): number | undefined {
    return this.nextDue.get(namespace, queue) ?? undefined
  }

  /** When the next lease runs out, over every queue; undefined when nothing is leased. */
  nextLeaseExpiry (): number | undefined {
    return this.nextLeaseExpiryStatement.get() ?? undefined
  }

  private view (row: RecordRow): RecordView {
    return recordView(row, this.attempts.all(row.seq))
  }
}

function listLimit (limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIST_LIMIT
  return Math.min(Math.max(0, Math.floor(limit)), MAX_LIST_LIMIT)
}

function statsOf (row: StatsRow): QueueStats {
  return {
    namespace: row.namespace,
    queue: row.queue,
    waiting: row.waiting,
    leased: row.leased,
    backlog: row.waiting + row.leased,
    dead: row.dead,
    lastCompletedAt: row.last_completed_at ?? undefined
  }
}
