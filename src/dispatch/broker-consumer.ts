// One broker-backed queue trigger at work: fetch up to a batch when there is
// room, deliver through the gateway exactly as the dispatcher does, and
// settle each message on the broker by the same failure-class table. Roost
// counts attempts and backs off; a dead message is also kept as a dead record
// of the events database, so `roost dlq` shows it whatever the broker.
import { setMaxListeners } from 'node:events'
import type { BrokerMessage, Subscription } from '../connectors/index.js'
import type { DeadCopy, LeasedRecord, RandomSource, Settlement } from '../events/index.js'
import { brokerAction, recordOf, type BrokerAction } from './broker-outcome.js'
import { inFlightLimit, nextFetchSize } from './capacity.js'
import type { BrokerConsumerPlan, DeliveryAnswer, DeliveryFunction } from './consumer.js'
import { queueDeliveryRequest } from './delivery-request.js'
import { acknowledgedAll, settlementsFor } from './settlement.js'

export interface BrokerConsumerDeps {
  subscription: Subscription
  deliver: DeliveryFunction
  eventToken: string
  /** Ready instances of the consuming function now. */
  readyOf: () => number
  /** Messages came while the function has no ready instance: start one (the autoscaler's activate). */
  onDemand: () => void
  /** Roost's dead record of a message (events.keepDead); `undo` when the broker then said the lease was lost. */
  keepDead: (copy: DeadCopy) => void
  undoDead: (id: string) => void
  onError: (during: string, err: unknown) => void
  /** A fetch worked (after failures, the trigger's condition may clear). */
  onFetched?: () => void
  consumerName: string
  random?: RandomSource
}

/** A fetch waits this long for a first message; a stop ends it at once (its signal). */
const FETCH_WAIT_MS = 1000
/** After a fetch failed (the broker is away), the next one waits this long: the connector reconnects meanwhile. */
const UNAVAILABLE_PAUSE_MS = 500
/** A fetch that came back empty this fast (a closed or cut connection) is not repeated at once. */
const EMPTY_FAST_MS = 20
const MIN_HEARTBEAT_MS = 250
/** A fetch takes up to this many deliveries' worth when there is room for them; each goes out as a delivery of `batch`. */
const BATCHES_PER_FETCH = 10
/**
 * Fetches under way at once, each for room the other did not ask for: with a
 * backlog, the broker's reply to one overlaps the work on the other's, where
 * one at a time left the instances waiting for every round trip. A connector
 * that can serve one at a time only lets the second wait its turn.
 */
const FETCHES_IN_FLIGHT = 2

class BrokerDelivery {
  readonly lost = new Set<string>()
  heartbeat: NodeJS.Timeout | null = null
  readonly startedAt = Date.now()
  constructor (readonly messages: BrokerMessage[], /** The messages as the delivery body and the settlement table read them. */ readonly records: LeasedRecord[]) {}
}

export class BrokerConsumer {
  /** Messages at the function: delivered and not answered yet. */
  inFlight = 0
  /** Messages answered whose settlement on the broker is under way: they take no instance's room, and are still leased. */
  settling = 0
  /**
   * Messages fetched ahead of the instances' room (at most one room's worth,
   * and none while no instance is ready): a delivery that ends is followed at
   * once by the next from here, rather than after a fetch's round trip. They
   * are leased; their leases are renewed while they wait.
   */
  private readonly ahead: BrokerMessage[] = []
  private aheadHeartbeat: NodeJS.Timeout | null = null
  lastCompletedAt: number | undefined
  private readonly deliveries = new Set<BrokerDelivery>()
  private readonly fetchAbort = new AbortController()
  /** Aborts every delivery still under way when a stop's grace runs out: one for all of them, as a stop ends them all at once. */
  private readonly deliveriesAbort = new AbortController()
  /** Messages asked for by the fetches under way. */
  private asked = 0
  private roomWaiters: Array<() => void> = []
  private loop: Promise<unknown> | null = null
  private stopping = false
  private readonly random: RandomSource

  constructor (public plan: BrokerConsumerPlan, private readonly deps: BrokerConsumerDeps) {
    this.random = deps.random ?? Math.random
    // Every delivery in flight listens to it (bounded by the trigger's in-flight limit): no leak for node to warn of past ten.
    setMaxListeners(0, this.deliveriesAbort.signal)
  }

  get subscription (): Subscription {
    return this.deps.subscription
  }

  /** Messages this consumer holds leased: fetched ahead, at the function, or being settled. */
  get held (): number {
    return this.ahead.length + this.inFlight + this.settling
  }

  start (): void {
    if (this.loop !== null) return
    const loops: Array<Promise<void>> = []
    for (let i = 0; i < FETCHES_IN_FLIGHT; i++) loops.push(this.run())
    this.loop = Promise.all(loops)
  }

  /** There may be room (a settlement, more ready instances): the loops look again. */
  wake (): void {
    this.pump()
    if (this.roomWaiters.length === 0) return
    const waiters = this.roomWaiters
    this.roomWaiters = []
    for (const waiter of waiters) waiter()
  }

  private waitForRoom (): Promise<void> {
    return new Promise<void>((resolve) => { this.roomWaiters.push(resolve) })
  }

  /**
   * Stops fetching; deliveries in flight get `graceMs` to end and settle, the
   * rest are aborted and released (no attempt used); then the subscription
   * closes, giving back whatever it still holds.
   */
  async stop (graceMs: number): Promise<void> {
    this.stopping = true
    this.fetchAbort.abort()
    this.wake()
    await this.loop
    await this.releaseAhead()
    if (this.deliveries.size > 0) {
      const grace = setTimeout(() => this.deliveriesAbort.abort(), graceMs)
      while (this.deliveries.size > 0) await this.waitForRoom()
      clearTimeout(grace)
    }
    await this.deps.subscription.close().catch((err: unknown) => this.deps.onError('close', err))
  }

  private async run (): Promise<void> {
    while (!this.stopping) {
      // The instances' room, and no more than as many again waiting for the broker to take their settlements.
      const ready = this.deps.readyOf()
      const limit = inFlightLimit(ready, this.plan.perInstance)
      const aheadRoom = ready > 0 ? limit : 0
      const size = nextFetchSize(this.plan.batch, Math.min(limit, 2 * limit - this.settling) + aheadRoom, this.inFlight + this.ahead.length + this.asked, BATCHES_PER_FETCH)
      if (size === 0) {
        await this.waitForRoom()
        continue
      }
      const started = Date.now()
      let messages: BrokerMessage[]
      this.asked += size
      try {
        messages = await this.deps.subscription.fetch(size, FETCH_WAIT_MS, this.fetchAbort.signal)
      } catch (err) {
        this.asked -= size
        this.deps.onError('fetch', err)
        await this.pause(UNAVAILABLE_PAUSE_MS)
        continue
      }
      this.asked -= size
      this.deps.onFetched?.()
      if (this.stopping) {
        await Promise.all(messages.map((m) => this.apply(m, { op: 'release', delayMs: 0 }, Date.now())))
        break
      }
      if (messages.length === 0) {
        if (Date.now() - started < EMPTY_FAST_MS) await this.pause(100)
        continue
      }
      if (this.deps.readyOf() === 0) this.deps.onDemand()
      for (let i = 0; i < messages.length; i++) this.ahead.push(messages[i] as BrokerMessage)
      this.pump()
    }
  }

  /** Delivers what was fetched, a batch at a time, while the instances have room. */
  private pump (): void {
    const ahead = this.ahead
    if (ahead.length === 0 || this.stopping) return
    const { batch, perInstance } = this.plan
    const limit = inFlightLimit(this.deps.readyOf(), perInstance)
    while (ahead.length > 0 && this.inFlight < limit) this.startDelivery(ahead.splice(0, Math.min(batch, limit - this.inFlight)))
    if (ahead.length > 0) this.aheadHeartbeat ??= this.startAheadHeartbeat()
    else if (this.aheadHeartbeat !== null) {
      clearInterval(this.aheadHeartbeat)
      this.aheadHeartbeat = null
    }
  }

  private startAheadHeartbeat (): NodeJS.Timeout {
    const timer = setInterval(() => {
      for (const message of this.ahead) {
        this.deps.subscription.working(message).then(
          // The broker gave it to another consumer: delivered from here it would run twice, and its settlement be refused.
          (ack) => { if (ack === 'lease-lost') this.dropAhead(message) },
          // The broker is away: the lease may run out, and the message then goes to whoever fetches it next.
          () => {}
        )
      }
    }, Math.max(MIN_HEARTBEAT_MS, Math.floor(this.plan.leaseMs / 3)))
    timer.unref()
    return timer
  }

  private dropAhead (message: BrokerMessage): void {
    const at = this.ahead.indexOf(message)
    if (at >= 0) this.ahead.splice(at, 1)
  }

  /** On a stop: what was fetched and never delivered goes back, using no attempt. */
  private async releaseAhead (): Promise<void> {
    if (this.aheadHeartbeat !== null) clearInterval(this.aheadHeartbeat)
    this.aheadHeartbeat = null
    const messages = this.ahead.splice(0)
    await Promise.all(messages.map((m) => this.apply(m, { op: 'release', delayMs: 0 }, Date.now())))
  }

  private pause (ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const signal = this.fetchAbort.signal
      function done (): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done)
    })
  }

  private startDelivery (messages: BrokerMessage[]): void {
    const { plan } = this
    const leaseExpiresAt = Date.now() + plan.leaseMs
    const records = messages.map((m) => recordOf(m, plan.namespace, plan.queue, plan.maxAttempts, leaseExpiresAt))
    const delivery = new BrokerDelivery(messages, records)
    this.inFlight += messages.length
    this.deliveries.add(delivery)
    delivery.heartbeat = setInterval(() => this.renew(delivery), Math.max(MIN_HEARTBEAT_MS, Math.floor(plan.leaseMs / 3)))
    delivery.heartbeat.unref()
    this.deps.deliver(queueDeliveryRequest(plan, records, this.deps.eventToken), this.deliveriesAbort.signal).then(
      (answer) => this.finish(delivery, answer),
      (err: unknown) => this.finish(delivery, { kind: 'unreachable', error: err instanceof Error ? err.message : String(err) })
    ).catch((err: unknown) => this.deps.onError('settle', err))
  }

  /** The handler still runs: every lease runs leaseMs from now. One the broker gave away is never settled by this delivery. */
  private renew (delivery: BrokerDelivery): void {
    for (const message of delivery.messages) {
      if (delivery.lost.has(message.id)) continue
      this.deps.subscription.working(message).then(
        (ack) => { if (ack === 'lease-lost') delivery.lost.add(message.id) },
        // The broker is away: the lease may run out, and the message then goes to whoever fetches it next.
        () => {}
      )
    }
  }

  private async finish (delivery: BrokerDelivery, answer: DeliveryAnswer): Promise<void> {
    if (delivery.heartbeat !== null) clearInterval(delivery.heartbeat)
    const { plan } = this
    const count = delivery.messages.length
    // Answered: the instances have room again while the broker takes the settlements (a round trip the next fetch need not wait for).
    this.inFlight -= count
    this.settling += count
    this.wake()
    try {
      // The successes (nearly all, usually) are acknowledged together: one call, one promise.
      if (acknowledgedAll(answer, count)) {
        const acks = delivery.lost.size === 0 ? delivery.messages : delivery.messages.filter((m) => !delivery.lost.has(m.id))
        if (acks.length > 0) await this.ackAll(acks)
        return
      }
      const settlements = settlementsFor(delivery.records, answer, 'queue')
      const acks: BrokerMessage[] = []
      const others: Array<Promise<void>> = []
      for (let i = 0; i < settlements.length; i++) {
        const message = delivery.messages[i] as BrokerMessage
        if (delivery.lost.has(message.id)) continue
        const action = brokerAction(settlements[i] as Settlement, message.attempt, plan, this.random)
        if (action.op === 'ack') acks.push(message)
        else others.push(this.apply(message, action, delivery.startedAt))
      }
      if (acks.length > 0) others.push(this.ackAll(acks))
      await Promise.all(others)
    } finally {
      this.settling -= count
      this.deliveries.delete(delivery)
      this.lastCompletedAt = Date.now()
      this.wake()
    }
  }

  /** Acknowledges what succeeded. A broker that is away leaves them leased: they come again when their leases run out. */
  private async ackAll (messages: BrokerMessage[]): Promise<void> {
    try {
      await this.deps.subscription.ackMany(messages)
    } catch (err) {
      this.deps.onError('ack', err)
    }
  }

  /** Settles one message on the broker. A broker that is away leaves it leased: it comes again when its lease runs out. */
  private async apply (message: BrokerMessage, action: BrokerAction, startedAt: number): Promise<void> {
    const sub = this.deps.subscription
    try {
      switch (action.op) {
        case 'ack': await sub.ack(message); return
        case 'retry': await sub.retry(message, action.delayMs); return
        case 'release': await sub.release(message, action.delayMs); return
        case 'dead': {
          // Kept before the broker forgets it: a crash in between leaves a dead record, never a lost message.
          const copy = this.deadCopy(message, action, startedAt)
          this.deps.keepDead(copy)
          const ack = await sub.dead(message, action.reason)
          if (ack === 'lease-lost') this.deps.undoDead(copy.id)
        }
      }
    } catch (err) {
      this.deps.onError(action.op, err)
    }
  }

  private deadCopy (message: BrokerMessage, action: Extract<BrokerAction, { op: 'dead' }>, startedAt: number): DeadCopy {
    const { plan } = this
    const copy: DeadCopy = {
      id: deadRecordId(plan.namespace, plan.queue, message.id),
      body: message.body, bodyType: message.bodyType, source: message.source, type: message.type, subject: message.subject,
      contentType: message.contentType, attributes: { ...message.attributes, deadid: message.id },
      attempts: message.attempt, maxAttempts: plan.maxAttempts, reason: action.reason, outcome: action.outcome,
      consumer: this.deps.consumerName, createdAt: message.publishedAt, startedAt
    }
    if (action.error !== undefined) copy.error = action.error
    if (action.status !== undefined) copy.status = action.status
    return copy
  }
}

/** The id of Roost's dead record of a broker message: unique in the events database, which holds every queue of every namespace. */
export function deadRecordId (namespace: string, queue: string, messageId: string): string {
  return `${namespace}/${queue}/${messageId}`
}
