// The dispatcher: for each queue with a consumer, lease due records when
// there is room, deliver them through the gateway, settle each by the answer.
// It runs on the control-plane thread (EventStore calls are synchronous
// SQLite) and never polls: it wakes on a publish (notify), on a settlement,
// on more ready instances, and on a timer at the next due time (backoff,
// delay, a batch's wait, a lease that runs out).
import { randomBytes } from 'node:crypto'
import type { EventStore, LeasedRecord, RecordState, Settlement, WallClock } from '../events/index.js'
import { decodeBody, recordCloudEventHeaders, systemWallClock } from '../events/index.js'
import { invocationDelivery, readStoredRequest } from '../invocations/index.js'
import { nextBatchSize, inFlightLimit } from './capacity.js'
import type { DeliveryAnswer, DeliveryFunction, DeliveryRequest, QueueConsumer } from './consumer.js'
import { functionKey, queueKey } from './consumer.js'
import { scheduledDeliveryBody } from './delivery-body.js'
import { queueDeliveryRequest } from './delivery-request.js'
import { settlementsFor } from './settlement.js'

export interface DispatcherHooks {
  /** A function with no ready instance has work: start one now (the autoscaler's activate). */
  onDemand? (namespace: string, fn: string): void
  /** A delivery's records were settled: for metrics. */
  onSettled? (consumer: QueueConsumer, settlements: readonly Settlement[], states: ReadonlyArray<RecordState | 'lease-lost'>): void
  /** Settling failed (the events database refused a write): the records' leases run out and they are delivered again. */
  onError? (consumer: QueueConsumer, err: unknown): void
}

export interface DispatcherOptions {
  events: EventStore
  deliver: DeliveryFunction
  /** The run's event secret (64 hex), sent in x-roost-event-token: the gateway honours x-roost-event only with it. */
  eventToken: string
  hooks?: DispatcherHooks
  clock?: WallClock
  /** Who holds the leases, as attempts show it; default `dispatcher-<random>`, one per run. */
  consumerName?: string
}

/** A lease is renewed when a third of it is left... at most this often. */
const MIN_HEARTBEAT_MS = 250
/** Leases of a run that died are taken back when they run out; the check waits at least this long between two. */
const MIN_RECOVERY_GAP_MS = 1000
/** setTimeout's longest delay; a wake further out is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

class Delivery {
  readonly abort = new AbortController()
  heartbeat: NodeJS.Timeout | null = null
  /** A cron firing replaced by a newer one: released and cancelled instead of settled by its answer. */
  abandoned = false
  lost = new Set<string>()

  constructor (readonly records: LeasedRecord[]) {}
}

class QueueState {
  inFlight = 0
  readonly deliveries = new Set<Delivery>()
  timer: NodeJS.Timeout | null = null
  timerAt = Infinity
  pumpQueued = false
  /** No longer consumed: it leases nothing and goes once its deliveries have settled. */
  retired = false

  constructor (public consumer: QueueConsumer) {}

  clearTimer (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.timerAt = Infinity
  }
}

export class Dispatcher {
  private readonly events: EventStore
  private readonly deliver: DeliveryFunction
  private readonly eventToken: string
  private readonly hooks: DispatcherHooks
  private readonly clock: WallClock
  readonly consumerName: string
  private readonly queues = new Map<string, QueueState>()
  /** Ready instances per function key, as the instance manager last said. */
  private ready = new Map<string, number>()
  private running = false
  private stopping: Promise<void> | null = null
  private recoveryTimer: NodeJS.Timeout | null = null
  private readonly settledWaiters = new Set<() => void>()

  constructor (options: DispatcherOptions) {
    this.events = options.events
    this.deliver = options.deliver
    this.eventToken = options.eventToken
    this.hooks = options.hooks ?? {}
    this.clock = options.clock ?? systemWallClock
    this.consumerName = options.consumerName ?? `dispatcher-${randomBytes(4).toString('hex')}`
  }

  start (): void {
    if (this.running || this.stopping !== null) return
    this.running = true
    this.armRecovery()
    for (const state of this.queues.values()) this.pump(state)
  }

  /**
   * The queues to consume, replacing the previous set. A queue no longer
   * listed gets no new deliveries; those in flight end and settle as usual.
   */
  setConsumers (consumers: readonly QueueConsumer[]): void {
    const keep = new Set<string>()
    for (const consumer of consumers) {
      const key = queueKey(consumer.namespace, consumer.queue)
      keep.add(key)
      const state = this.queues.get(key)
      if (state === undefined) {
        this.queues.set(key, new QueueState(consumer))
      } else {
        state.consumer = consumer
        state.retired = false
      }
    }
    for (const [key, state] of this.queues) {
      if (keep.has(key)) continue
      state.clearTimer()
      state.retired = true
      if (state.deliveries.size === 0) this.queues.delete(key)
    }
    if (this.running) for (const key of keep) this.schedulePump(this.queues.get(key) as QueueState)
  }

  consumers (): QueueConsumer[] {
    return [...this.queues.values()].filter((state) => !state.retired).map((state) => state.consumer)
  }

  /**
   * Ready instances per function (`namespace/name`). More of them is more
   * room: the queues of a function that gained instances are pumped.
   */
  setReady (ready: ReadonlyMap<string, number>): void {
    const before = this.ready
    this.ready = new Map(ready)
    if (!this.running) return
    for (const state of this.queues.values()) {
      const key = functionKey(state.consumer.namespace, state.consumer.function)
      if ((ready.get(key) ?? 0) > (before.get(key) ?? 0)) this.schedulePump(state)
    }
  }

  /** Records were published to the queue (or fired, or replayed): deliver what is due now. */
  notify (namespace: string, queue: string): void {
    const state = this.queues.get(queueKey(namespace, queue))
    if (state === undefined || state.retired || !this.running) return
    if (this.readyOf(state.consumer) === 0) this.hooks.onDemand?.(state.consumer.namespace, state.consumer.function)
    this.schedulePump(state)
  }

  /** Records in flight on the queue now. */
  inFlight (namespace: string, queue: string): number {
    return this.queues.get(queueKey(namespace, queue))?.inFlight ?? 0
  }

  /**
   * Gives up the queue's deliveries in flight (a cron firing replaced by a
   * newer one): each is aborted, released without using an attempt, and cancelled.
   */
  abandon (namespace: string, queue: string): number {
    const state = this.queues.get(queueKey(namespace, queue))
    if (state === undefined) return 0
    for (const delivery of state.deliveries) {
      delivery.abandoned = true
      delivery.abort.abort()
    }
    return state.deliveries.size
  }

  /**
   * Stops leasing, gives deliveries in flight `graceMs` to end and settle,
   * then aborts the rest: they are released without using an attempt.
   * Resolves once every delivery has settled.
   */
  stop (graceMs = 5000): Promise<void> {
    this.stopping ??= this.shutdown(graceMs)
    return this.stopping
  }

  private async shutdown (graceMs: number): Promise<void> {
    this.running = false
    if (this.recoveryTimer !== null) clearTimeout(this.recoveryTimer)
    this.recoveryTimer = null
    for (const state of this.queues.values()) state.clearTimer()
    const idle = (): boolean => [...this.queues.values()].every((state) => state.deliveries.size === 0)
    if (!idle()) {
      const graceTimer = setTimeout(() => {
        for (const state of this.queues.values()) for (const delivery of state.deliveries) delivery.abort.abort()
      }, graceMs)
      while (!idle()) await new Promise<void>((resolve) => this.settledWaiters.add(resolve))
      clearTimeout(graceTimer)
    }
  }

  // ---- leasing

  private readyOf (consumer: QueueConsumer): number {
    return this.ready.get(functionKey(consumer.namespace, consumer.function)) ?? 0
  }

  /** Bursts of notifications (a publish per order) coalesce into one pump. */
  private schedulePump (state: QueueState): void {
    if (state.pumpQueued) return
    state.pumpQueued = true
    setImmediate(() => {
      state.pumpQueued = false
      this.pump(state)
    })
  }

  /** Leases and delivers while there is room and due work; sets the timer for what is not due yet. */
  private pump (state: QueueState): void {
    if (!this.running || state.retired || !this.events.isOpen) return
    try {
      this.fill(state)
    } catch (err) {
      // The events database refused (busy, full disk): tried again shortly, never thrown into a timer.
      this.hooks.onError?.(state.consumer, err)
      this.wakeAt(state, this.clock.now() + MIN_RECOVERY_GAP_MS)
    }
  }

  private fill (state: QueueState): void {
    const { consumer } = state
    for (;;) {
      const ready = this.readyOf(consumer)
      const size = nextBatchSize(consumer.batch, inFlightLimit(ready, consumer.perInstance), state.inFlight)
      if (size === 0) return // a settlement pumps again
      const due = this.events.nextDueAt(consumer.namespace, consumer.queue)
      if (due === undefined) return // a publish notifies
      const now = this.clock.now()
      if (due > now) {
        this.wakeAt(state, due)
        return
      }
      // Fewer than a batch: they wait up to maxBatchWait (from when the oldest was due) for company.
      if (size > 1 && consumer.maxBatchWaitMs > 0 && now < due + consumer.maxBatchWaitMs &&
        this.events.stats(consumer.namespace, consumer.queue).waiting < size) {
        this.wakeAt(state, due + consumer.maxBatchWaitMs)
        return
      }
      const records = this.events.lease(consumer.namespace, consumer.queue, { max: size, leaseMs: consumer.leaseMs, consumer: this.consumerName })
      if (records.length === 0) return
      if (ready === 0) this.hooks.onDemand?.(consumer.namespace, consumer.function)
      this.startDelivery(state, records)
    }
  }

  private wakeAt (state: QueueState, at: number): void {
    if (state.timer !== null && state.timerAt <= at) return
    state.clearTimer()
    state.timerAt = at
    state.timer = setTimeout(() => {
      state.timer = null
      state.timerAt = Infinity
      this.pump(state)
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.now())))
    state.timer.unref()
  }

  /** Leases of a run that died run out in time: they are taken back then, and their queues pumped. */
  private armRecovery (): void {
    if (!this.running) return
    const next = this.events.nextLeaseExpiry()
    if (next === undefined) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(MIN_RECOVERY_GAP_MS, next - this.clock.now()))
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = null
      if (!this.running || !this.events.isOpen) return
      let recovered = 0
      try {
        recovered = this.events.recoverExpiredLeases()
      } catch {
        // Tried again at the next arming: the leases stay until then.
      }
      if (recovered > 0) for (const state of this.queues.values()) this.pump(state)
      this.armRecovery()
    }, delay)
    this.recoveryTimer.unref()
  }

  // ---- delivering

  private startDelivery (state: QueueState, records: LeasedRecord[]): void {
    const { consumer } = state
    const delivery = new Delivery(records)
    state.inFlight += records.length
    state.deliveries.add(delivery)
    const heartbeatMs = Math.max(MIN_HEARTBEAT_MS, Math.floor(consumer.leaseMs / 3))
    delivery.heartbeat = setInterval(() => this.renew(delivery, consumer.leaseMs), heartbeatMs)
    delivery.heartbeat.unref()
    if (this.recoveryTimer === null) this.armRecovery()
    const request = this.requestOf(consumer, records)
    if (request === undefined) {
      // Not a stored request this platform can replay (a newer format, a damaged row): it can never run.
      this.finish(state, delivery, { kind: 'answered', status: 400, headers: {}, body: Buffer.alloc(0) }, 'the record is not a stored request this platform can replay')
      return
    }
    this.deliver(request, delivery.abort.signal).then(
      (answer) => this.finish(state, delivery, answer),
      (err: unknown) => this.finish(state, delivery, { kind: 'unreachable', error: err instanceof Error ? err.message : String(err) })
    )
  }

  private requestOf (consumer: QueueConsumer, records: LeasedRecord[]): DeliveryRequest | undefined {
    const first = records[0] as LeasedRecord
    if (consumer.event === 'invocation') {
      const stored = readStoredRequest(first.body)
      if (stored === undefined) return undefined
      const replay = invocationDelivery(first, stored, this.eventToken)
      return { method: replay.method, path: replay.path, headers: replay.headers, body: replay.body, timeoutMs: consumer.deliveryTimeoutMs }
    }
    if (consumer.event === 'queue') return queueDeliveryRequest(consumer, records, this.eventToken)
    const headers: Array<[string, string]> = [['content-type', 'application/json'], ['x-roost-event', consumer.event], ['x-roost-event-token', this.eventToken]]
    // A firing is one event: its record's attributes as ce-* headers. A batch of messages is many; each carries its own in the body.
    headers.push(...recordCloudEventHeaders(first))
    return { method: 'POST', path: `/fn/${consumer.function}.${consumer.namespace}/`, headers, body: scheduledDeliveryBody(first), timeoutMs: consumer.deliveryTimeoutMs }
  }

  /** The handler still runs: its leases run leaseMs from now. One it lost is never settled by this delivery. */
  private renew (delivery: Delivery, leaseMs: number): void {
    if (!this.events.isOpen) return
    for (const record of delivery.records) {
      if (delivery.lost.has(record.id)) continue
      try {
        this.events.extendLease(record, leaseMs)
      } catch {
        delivery.lost.add(record.id)
      }
    }
  }

  private finish (state: QueueState, delivery: Delivery, answer: DeliveryAnswer, unplayable?: string): void {
    if (delivery.heartbeat !== null) clearInterval(delivery.heartbeat)
    const { consumer } = state
    try {
      if (this.events.isOpen) this.settle(consumer, delivery, answer, unplayable)
    } catch (err) {
      this.hooks.onError?.(consumer, err)
    } finally {
      state.inFlight -= delivery.records.length
      state.deliveries.delete(delivery)
      const key = queueKey(consumer.namespace, consumer.queue)
      if (state.retired && state.deliveries.size === 0 && this.queues.get(key) === state) this.queues.delete(key)
      for (const wake of this.settledWaiters) wake()
      this.settledWaiters.clear()
      this.pump(state)
    }
  }

  private settle (consumer: QueueConsumer, delivery: Delivery, answer: DeliveryAnswer, unplayable?: string): void {
    const settlements: Settlement[] = unplayable !== undefined
      ? delivery.records.map((r) => ({ id: r.id, token: r.token, outcome: 'dead', reason: unplayable }))
      : settlementsFor(delivery.records, delivery.abandoned ? { kind: 'aborted' } : answer, consumer.event).filter((s) => !delivery.lost.has(s.id))
    const results = this.events.settle(settlements)
    const states = results.map((r) => r.settled ? r.state : 'lease-lost' as const)
    if (delivery.abandoned) for (const s of settlements) this.events.cancel(s.id)
    if (consumer.deadLetterQueue !== undefined) this.forwardDead(consumer, delivery.records, settlements, states)
    this.hooks.onSettled?.(consumer, settlements, states)
  }

  /** A copy of each record that died goes to the trigger's dead-letter queue, when that queue exists. */
  private forwardDead (consumer: QueueConsumer, records: readonly LeasedRecord[], settlements: readonly Settlement[], states: ReadonlyArray<RecordState | 'lease-lost'>): void {
    const target = consumer.deadLetterQueue as string
    if (this.events.queuePolicy(consumer.namespace, target) === undefined) return
    const byId = new Map(records.map((r) => [r.id, r]))
    settlements.forEach((settlement, i) => {
      if (states[i] !== 'dead') return
      const record = byId.get(settlement.id) as LeasedRecord
      const reason = settlement.outcome === 'dead' ? settlement.reason : settlement.outcome === 'failed' ? (settlement.error ?? settlement.cause) : 'dead'
      try {
        this.events.publishOne(consumer.namespace, target, {
          // One copy per death: a replayed message that dies again is copied again, a repeat of this call is not.
          id: `${record.id}.dead.${record.token}`,
          body: decodeBody(record.body, record.bodyType),
          source: record.source,
          type: record.type,
          subject: record.subject,
          contentType: record.contentType,
          attributes: { ...record.attributes, deadqueue: consumer.queue, deadid: record.id, deadreason: reason.slice(0, 1024) }
        })
        this.schedulePumpOf(consumer.namespace, target)
      } catch {
        // A full or otherwise refusing dead-letter queue: the record stays dead in its own queue (`roost dlq list`).
      }
    })
  }

  private schedulePumpOf (namespace: string, queue: string): void {
    const state = this.queues.get(queueKey(namespace, queue))
    if (state !== undefined && !state.retired && this.running) this.schedulePump(state)
  }
}
