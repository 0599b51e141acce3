import type Database from 'better-sqlite3'
import { LeaseLostError, NotFoundError, ValidationError } from '../errors/index.js'
import type { RandomSource } from './backoff.js'
import { Canceller } from './canceller.js'
import { CronMarks } from './cron-marks.js'
import { DeadCopies, type DeadCopy } from './dead-copy.js'
import { DeadLetterBox } from './dead-letter-box.js'
import type { Durability } from './event-database.js'
import { openEventDatabase } from './event-database.js'
import { firingId } from './firing-id.js'
import { Leaser } from './leaser.js'
import { Publisher } from './publisher.js'
import { Pruner } from './pruner.js'
import { Settler } from './settler.js'
import type { QueuePolicy } from './queue-policy.js'
import { DEFAULT_QUEUE_POLICY, resolveQueuePolicy } from './queue-policy.js'
import { prepareRecord } from './record-input.js'
import type { PreparedRecord } from './record-input.js'
import type { ListQuery } from './record-reader.js'
import { RecordReader } from './record-reader.js'
import { leasedRecord } from './record-row.js'
import type {
  CancelOutcome, DeadSelection, FailureCause, LeasedRecord, LeaseRef, LeaseRequest, NewRecord, PublishResult, QueueStats,
  RecordState, RecordView, ReleaseReason, ResponseInput, Settlement, SettleResult
} from './record-types.js'
import type { WallClock } from './wall-clock.js'
import { systemWallClock } from './wall-clock.js'

export interface EventStoreOptions {
  clock?: WallClock
  /** The jitter of retry backoff; Math.random by default. */
  random?: RandomSource
  durability?: Durability
}

export interface Firing {
  trigger: string
  scheduledTime: number
  record: Omit<NewRecord, 'id' | 'kind' | 'key' | 'onDuplicate'>
}

const MAX_LEASE_BATCH = 1000
const MAX_LEASE_MS = 24 * 3600_000
const PRUNE_BATCH = 1000

type Tx<A extends unknown[], R> = Database.Transaction<(...args: A) => R>

/**
 * The durable event records of one platform: queue messages, async
 * invocations and cron firings, in `<dir>/events.db`. One process owns it.
 *
 * Every operation is one IMMEDIATE transaction (it takes the write lock
 * first, so no read inside can go stale before the write); with the default
 * durability every commit is fsynced before the call returns, so a publish
 * that returned, or an acknowledgement, survives kill -9 and power loss.
 * Time comes from the injected clock, so tests move it by hand.
 */
export class EventStore {
  private readonly clock: WallClock
  private readonly policies = new Map<string, QueuePolicy>()
  private readonly publisher: Publisher
  private readonly leaser: Leaser
  private readonly settler: Settler
  private readonly reader: RecordReader
  private readonly deadLetters: DeadLetterBox
  private readonly deadCopies: DeadCopies
  private readonly canceller: Canceller
  private readonly pruner: Pruner
  private readonly cronMarks: CronMarks
  private readonly policyOf = (namespace: string, queue: string): QueuePolicy =>
    this.policies.get(queueKey(namespace, queue)) ?? DEFAULT_QUEUE_POLICY

  private readonly publishTx: Tx<[string, string, QueuePolicy, readonly PreparedRecord[]], PublishResult[]>
  private readonly fireTx: Tx<[string, string, QueuePolicy, PreparedRecord, Firing], PublishResult>
  private readonly skipTx: Tx<[string, string, number], void>
  private readonly leaseTx: Tx<[string, string, LeaseRequest], LeasedRecord[]>
  private readonly recoverTx: Tx<[], number>
  private readonly settleTx: Tx<[readonly Settlement[]], SettleResult[]>
  private readonly replayTx: Tx<[string, string, DeadSelection], number>
  private readonly purgeTx: Tx<[string, string, DeadSelection], number>
  private readonly keepDeadTx: Tx<[string, string, DeadCopy], boolean>
  private readonly cancelTx: Tx<[string], CancelOutcome>
  private readonly pruneTx: Tx<[], number>
  private readonly extendTx: Tx<[LeaseRef, number], boolean>
  private readonly getTx: Tx<[string], RecordView | undefined>
  private readonly listTx: Tx<[string, string, ListQuery | undefined], RecordView[]>

  static open (dir: string, options: EventStoreOptions = {}): EventStore {
    const db = openEventDatabase(dir, options.durability ?? 'full')
    try {
      return new EventStore(db, options)
    } catch (error) {
      db.close()
      throw error
    }
  }

  private constructor (private readonly db: Database.Database, options: EventStoreOptions) {
    this.clock = options.clock ?? systemWallClock
    this.publisher = new Publisher(db)
    this.leaser = new Leaser(db)
    this.settler = new Settler(db, options.random ?? Math.random)
    this.reader = new RecordReader(db)
    this.deadLetters = new DeadLetterBox(db)
    this.deadCopies = new DeadCopies(db)
    this.canceller = new Canceller(db)
    this.pruner = new Pruner(db)
    this.cronMarks = new CronMarks(db)

    this.publishTx = db.transaction((namespace: string, queue: string, policy: QueuePolicy, records: readonly PreparedRecord[]) =>
      this.publisher.publish(namespace, queue, policy, records, this.clock.now()))
    this.fireTx = db.transaction((namespace: string, queue: string, policy: QueuePolicy, record: PreparedRecord, firing: Firing) => {
      const [result] = this.publisher.publish(namespace, queue, policy, [record], this.clock.now())
      this.cronMarks.mark(namespace, firing.trigger, firing.scheduledTime)
      return result as PublishResult
    })
    this.skipTx = db.transaction((namespace: string, trigger: string, scheduledTime: number) => this.cronMarks.mark(namespace, trigger, scheduledTime))
    this.leaseTx = db.transaction((namespace: string, queue: string, request: LeaseRequest) => {
      const now = this.clock.now()
      this.housekeep(now)
      return this.leaser.lease({ namespace, queue, consumer: request.consumer, now, expiresAt: now + request.leaseMs, max: request.max }).map(leasedRecord)
    })
    this.recoverTx = db.transaction(() => this.housekeep(this.clock.now()))
    this.settleTx = db.transaction((settlements: readonly Settlement[]) => {
      const now = this.clock.now()
      return settlements.map((s) => this.settler.settle(s, now, this.policyOf))
    })
    this.replayTx = db.transaction((namespace: string, queue: string, selection: DeadSelection) =>
      this.deadLetters.replay(namespace, queue, selection, this.clock.now()))
    this.purgeTx = db.transaction((namespace: string, queue: string, selection: DeadSelection) =>
      this.deadLetters.purge(namespace, queue, selection))
    this.keepDeadTx = db.transaction((namespace: string, queue: string, copy: DeadCopy) => this.deadCopies.keep(namespace, queue, copy, this.clock.now()))
    this.cancelTx = db.transaction((id: string) => this.canceller.cancel(id, this.clock.now(), this.policyOf))
    this.pruneTx = db.transaction(() => this.pruner.prune(this.clock.now(), PRUNE_BATCH))
    this.extendTx = db.transaction((lease: LeaseRef, leaseMs: number) =>
      this.leaser.extend(lease.id, lease.token, this.clock.now() + leaseMs))
    // Reads of a record with its attempts see one snapshot (a deferred transaction).
    this.getTx = db.transaction((id: string) => this.reader.get(id))
    this.listTx = db.transaction((namespace: string, queue: string, query: ListQuery | undefined) => this.reader.listRecords(namespace, queue, query))

    // A restart: the leases of the process that died come back as soon as they run out.
    this.recoverExpiredLeases()
  }

  get isOpen (): boolean {
    return this.db.open
  }

  close (): void {
    if (this.db.open) this.db.close()
  }

  // ---- queues

  /**
   * Declares a queue (a queue trigger, a function's async invocations, a cron
   * trigger) with its policy; publishing needs it. Declaring again replaces
   * the policy: records already published keep their maxAttempts and backoff.
   */
  declareQueue (namespace: string, queue: string, policy: Partial<QueuePolicy> = {}): QueuePolicy {
    const resolved = resolveQueuePolicy(policy)
    this.policies.set(queueKey(namespace, queue), resolved)
    return resolved
  }

  forgetQueue (namespace: string, queue: string): boolean {
    return this.policies.delete(queueKey(namespace, queue))
  }

  queuePolicy (namespace: string, queue: string): QueuePolicy | undefined {
    return this.policies.get(queueKey(namespace, queue))
  }

  // ---- publishing

  /**
   * Publishes records in one transaction: all of them or, when one is bad or
   * the queue would pass its maxDepth (QueueFullError, 429), none. Returned,
   * they are on disk.
   */
  publish (namespace: string, queue: string, records: readonly NewRecord[]): PublishResult[] {
    if (records.length === 0) return []
    // Checked and encoded before the write lock is taken: a bad record costs the queue nothing.
    const policy = this.declaredPolicy(namespace, queue)
    const prepared = records.map((r, i) => prepareRecord(r, namespace, queue, policy, records.length === 1 ? '' : `messages[${i}]`))
    return this.publishTx.immediate(namespace, queue, policy, prepared)
  }

  publishOne (namespace: string, queue: string, record: NewRecord): PublishResult {
    return this.publish(namespace, queue, [record])[0] as PublishResult
  }

  /**
   * Records a cron firing under its deterministic id and moves the trigger's
   * mark to its scheduled time: firing a time already fired is a duplicate.
   */
  fire (namespace: string, queue: string, firing: Firing): PublishResult {
    const policy = this.declaredPolicy(namespace, queue)
    const record = prepareRecord({ ...firing.record, id: firingId(namespace, firing.trigger, firing.scheduledTime), kind: 'firing' }, namespace, queue, policy, '')
    return this.fireTx.immediate(namespace, queue, policy, record, firing)
  }

  /**
   * Moves the trigger's mark to a scheduled time that is passed over without
   * a record (an overlap policy of "forbid" skipped it): catch-up after a
   * restart does not fire it later.
   */
  skipFiring (namespace: string, trigger: string, scheduledTime: number): void {
    this.skipTx.immediate(namespace, trigger, scheduledTime)
  }

  /** The latest scheduled time fired (or skipped) for the trigger. */
  lastFiring (namespace: string, trigger: string): number | undefined {
    return this.cronMarks.last(namespace, trigger)
  }

  forgetTrigger (namespace: string, trigger: string): boolean {
    return this.cronMarks.forget(namespace, trigger)
  }

  // ---- consuming

  /**
   * Leases up to `max` due records of the queue to one consumer, oldest due
   * first, in one transaction. Before that, records past their maximum age
   * die and expired leases (of every queue) are taken back.
   */
  lease (namespace: string, queue: string, request: LeaseRequest): LeasedRecord[] {
    if (!Number.isSafeInteger(request.max) || request.max < 0 || request.max > MAX_LEASE_BATCH) {
      throw new ValidationError([{ field: 'batch', message: `a batch is 0 to ${MAX_LEASE_BATCH} records, got ${String(request.max)}` }])
    }
    checkLeaseMs(request.leaseMs)
    return this.leaseTx.immediate(namespace, queue, request)
  }

  /** The consumer still works on it (a heartbeat): the lease runs leaseMs from now. */
  extendLease (lease: LeaseRef, leaseMs: number): void {
    checkLeaseMs(leaseMs)
    if (!this.extendTx.immediate(lease, leaseMs)) throw lostLease(lease)
  }

  /**
   * Settles several leases in one transaction (a batch's outcomes). A stale
   * one (its lease was lost) is refused by itself, the others settle.
   * A settlement after its lease ran out but before anyone took the record
   * back is accepted: the token is still the current one.
   */
  settle (settlements: readonly Settlement[]): SettleResult[] {
    if (settlements.length === 0) return []
    return this.settleTx.immediate(settlements)
  }

  /** The handler finished it. */
  ack (lease: LeaseRef, details: { response?: ResponseInput, initMs?: number } = {}): RecordState {
    return this.settleOne({ ...lease, outcome: 'succeeded', ...details })
  }

  /** A counted failed attempt: retried after retryAfterMs or the backoff, dead after the last attempt. */
  fail (lease: LeaseRef, cause: FailureCause, details: { error?: string, status?: number, retryAfterMs?: number, initMs?: number } = {}): RecordState {
    return this.settleOne({ ...lease, outcome: 'failed', cause, ...details })
  }

  /** "Do not retry this one": dead at once. */
  deadLetter (lease: LeaseRef, reason: string, details: { error?: string, status?: number } = {}): RecordState {
    return this.settleOne({ ...lease, outcome: 'dead', reason, ...details })
  }

  /** Given back without using an attempt: the platform drained or stopped the instance. */
  release (lease: LeaseRef, reason: ReleaseReason, delayMs?: number): RecordState {
    return this.settleOne({ ...lease, outcome: 'released', reason, delayMs })
  }

  /**
   * Takes back every lease that ran out (a counted attempt each: the handler
   * hung or its instance died) and kills records past their maximum age;
   * how many records changed. Leasing does this too.
   */
  recoverExpiredLeases (): number {
    return this.recoverTx.immediate()
  }

  // ---- records

  get (id: string): RecordView | undefined {
    return this.getTx.deferred(id)
  }

  list (namespace: string, queue: string, query?: ListQuery): RecordView[] {
    return this.listTx.deferred(namespace, queue, query)
  }

  /** Cancels a record not yet run; a running or finished one stays as it is. */
  cancel (id: string): CancelOutcome {
    return this.cancelTx.immediate(id)
  }

  /** Deletes finished records past their queue's retention (a bounded number per call); how many. */
  prune (): number {
    return this.pruneTx.immediate()
  }

  // ---- dead letters

  listDead (namespace: string, queue: string, query: Omit<ListQuery, 'state'> = {}): RecordView[] {
    return this.list(namespace, queue, { ...query, state: 'dead' })
  }

  replayDead (namespace: string, queue: string, selection: DeadSelection): number {
    return this.replayTx.immediate(namespace, queue, selection)
  }

  purgeDead (namespace: string, queue: string, selection: DeadSelection): number {
    return this.purgeTx.immediate(namespace, queue, selection)
  }

  /**
   * Keeps a dead record for a message a broker dead-lettered (the queue need
   * not be declared: it is the broker's); false when that copy is kept already.
   */
  keepDead (namespace: string, queue: string, copy: DeadCopy): boolean {
    return this.keepDeadTx.immediate(namespace, queue, copy)
  }

  // ---- numbers

  /** waiting, leased, backlog (= waiting + leased), dead, last completion: one row read. */
  stats (namespace: string, queue: string): QueueStats {
    return this.reader.queueStats(namespace, queue)
  }

  allStats (): QueueStats[] {
    return this.reader.everyQueueStats()
  }

  /** When the queue's next ready record is due (maybe already); undefined when none waits. */
  nextDueAt (namespace: string, queue: string): number | undefined {
    return this.reader.nextDueAt(namespace, queue)
  }

  /** When the next lease (of any queue) runs out: when to call recoverExpiredLeases. */
  nextLeaseExpiry (): number | undefined {
    return this.reader.nextLeaseExpiry()
  }

  // ----

  private housekeep (now: number): number {
    let changed = this.leaser.expireAged(now)
    for (const row of this.leaser.overdueLeases(now)) {
      this.settler.expire(row, now)
      changed++
    }
    return changed
  }

  private settleOne (settlement: Settlement): RecordState {
    const [result] = this.settle([settlement])
    if (result === undefined || !result.settled) throw lostLease(settlement)
    return result.state
  }

  private declaredPolicy (namespace: string, queue: string): QueuePolicy {
    const policy = this.policies.get(queueKey(namespace, queue))
    if (policy === undefined) {
      throw new NotFoundError(`no queue ${queue} in namespace ${namespace}`, {
        field: 'queue',
        hint: 'a queue exists once a function declares it in spec.triggers'
      })
    }
    return policy
  }
}

function checkLeaseMs (leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
    throw new ValidationError([{ field: 'leaseMs', message: `a lease is 1 ms to ${MAX_LEASE_MS} ms, got ${String(leaseMs)}` }])
  }
}

function queueKey (namespace: string, queue: string): string {
  return `${namespace}\u0000${queue}`
}

function lostLease (lease: LeaseRef): LeaseLostError {
  return new LeaseLostError(`record ${lease.id} is no longer leased with token ${lease.token}: its lease ran out and it was taken back, or it was settled already`, {
    hint: 'a consumer whose lease ran out must not act on the record again; it has been or will be delivered anew'
  })
}
