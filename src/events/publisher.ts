// Publish: records into a queue, with idempotency and the depth bound. Runs
// inside the EventStore's transaction: a batch is written whole or not at all.
import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { QueueFullError } from '../errors/index.js'
import type { QueuePolicy } from './queue-policy.js'
import type { PreparedRecord } from './record-input.js'
import type { PublishResult, RecordState } from './record-types.js'

interface KeyHolder {
  seq: number
  id: string
  state: RecordState
  key_expires_at: number | null
}

const SQL = {
  idTaken: 'SELECT 1 FROM records WHERE id = ?',
  keyHolder: 'SELECT seq, id, state, key_expires_at FROM records WHERE namespace = ? AND queue = ? AND idempotency_key = ?',
  detachKey: 'UPDATE records SET idempotency_key = NULL, key_expires_at = NULL WHERE seq = ?',
  insert: `
    INSERT INTO records (id, kind, namespace, queue, state, source, type, subject, content_type, attributes, body_type, body,
      idempotency_key, key_expires_at, created_at, not_before, deadline, max_attempts, backoff_initial_ms, backoff_max_ms)
    VALUES (@id, @kind, @namespace, @queue, 'ready', @source, @type, @subject, @contentType, @attributes, @bodyType, @body,
      @key, @keyExpiresAt, @now, @notBefore, @deadline, @maxAttempts, @backoffInitialMs, @backoffMaxMs)`,
  replace: `
    UPDATE records SET source = @source, type = @type, subject = @subject, content_type = @contentType, attributes = @attributes,
      body_type = @bodyType, body = @body, key_expires_at = @keyExpiresAt, not_before = @notBefore, deadline = @deadline,
      attempts = 0, max_attempts = @maxAttempts
    WHERE seq = @seq`,
  depth: 'SELECT waiting + leased FROM queue_stats WHERE namespace = ? AND queue = ?'
} as const

export class Publisher {
  private readonly idTaken: Database.Statement<[string], number>
  private readonly keyHolder: Database.Statement<[string, string, string], KeyHolder>
  private readonly detachKey: Database.Statement<[number]>
  private readonly insert: Database.Statement<[Record<string, unknown>]>
  private readonly replace: Database.Statement<[Record<string, unknown>]>
  private readonly depth: Database.Statement<[string, string], number>

  constructor (db: Database.Database) {
    this.idTaken = db.prepare<[string], number>(SQL.idTaken).pluck()
    this.keyHolder = db.prepare<[string, string, string], KeyHolder>(SQL.keyHolder)
    this.detachKey = db.prepare<[number]>(SQL.detachKey)
    this.insert = db.prepare<[Record<string, unknown>]>(SQL.insert)
    this.replace = db.prepare<[Record<string, unknown>]>(SQL.replace)
    this.depth = db.prepare<[string, string], number>(SQL.depth).pluck()
  }

  publish (namespace: string, queue: string, policy: QueuePolicy, records: readonly PreparedRecord[], now: number): PublishResult[] {
    const results = records.map((record) => this.publishOne(namespace, queue, policy, record, now))
    if (results.some((r) => r.outcome === 'created')) this.checkDepth(namespace, queue, policy)
    return results
  }

  private publishOne (namespace: string, queue: string, policy: QueuePolicy, record: PreparedRecord, now: number): PublishResult {
    if (record.id !== undefined && this.idTaken.get(record.id) !== undefined) return { id: record.id, outcome: 'duplicate' }
    const values = {
      namespace,
      queue,
      now,
      kind: record.kind,
      source: record.source,
      type: record.type,
      subject: record.subject,
      contentType: record.contentType,
      attributes: record.attributes,
      bodyType: record.bodyType,
      body: record.body,
      key: record.key ?? null,
      keyExpiresAt: record.key === undefined ? null : now + policy.retentionMs,
      notBefore: now + record.delayMs,
      deadline: record.maxAgeMs === undefined ? null : now + record.maxAgeMs,
      maxAttempts: record.maxAttempts,
      backoffInitialMs: policy.backoff.initialMs,
      backoffMaxMs: policy.backoff.maxMs
    }
    if (record.key !== undefined) {
      const holder = this.keyHolder.get(namespace, queue, record.key)
      if (holder !== undefined) {
        const live = holder.state === 'ready' || holder.state === 'leased'
        if (record.replace && holder.state === 'ready') {
          this.replace.run({ ...values, seq: holder.seq })
          return { id: holder.id, outcome: 'replaced' }
        }
        // A live record always holds its key; a finished one for the retention after publish.
        if (!record.replace && (live || (holder.key_expires_at ?? 0) > now)) return { id: holder.id, outcome: 'duplicate' }
        // replace with the holder running or finished: it keeps running or stays as it ended, without the key.
        this.detachKey.run(holder.seq)
      }
    }
    const id = record.id ?? randomUUID()
    this.insert.run({ ...values, id })
    return { id, outcome: 'created' }
  }

  // Counted after the inserts, inside the transaction: throwing rolls the whole batch back.
  private checkDepth (namespace: string, queue: string, policy: QueuePolicy): void {
    const depth = this.depth.get(namespace, queue) ?? 0
    if (depth <= policy.maxDepth) return
    throw new QueueFullError(
      `queue ${namespace}/${queue} is full: the publish would bring it to ${depth} messages waiting or leased, its maxDepth is ${policy.maxDepth}`,
      Math.ceil(policy.fullRetryAfterMs / 1000),
      { field: 'queue' }
    )
  }
}
