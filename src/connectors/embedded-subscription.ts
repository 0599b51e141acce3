// A consumer on the embedded queue: leases from the EventStore, and settles
// with the lease's fencing token, so a subscription whose lease ran out and
// was taken over cannot settle what its successor now holds. The store counts
// attempts itself as Roost counts them (a release uses none), durably.
import { BrokerUnavailableError, LeaseLostError } from '../errors/index.js'
import type { EventStore, LeasedRecord, Settlement } from '../events/index.js'
import { RECORD_LIMITS } from '../events/index.js'
import type { Backlog, BrokerMessage, QueueBinding, SettleAck, Subscription } from './connector.js'
import type { EmbeddedWakeups } from './embedded-wakeups.js'
import { embeddedQueueKey } from './embedded-wakeups.js'

/** How often a waiting fetch looks for work that no wake-up announced (a publish by another process, a lease run out). */
export const EMBEDDED_POLL_MS = 100
/** The EventStore's largest lease batch. */
const MAX_BATCH = 1000

/** A settlement without its lease: the outcome alone (Omit distributed over the union's members). */
type Outcome<S = Settlement> = S extends unknown ? Omit<S, 'id' | 'token'> : never

export class EmbeddedSubscription implements Subscription {
  private readonly key: string
  /** The lease each message handed out was fetched under: the record, which carries its id and token. */
  private readonly leases = new WeakMap<BrokerMessage, LeasedRecord>()
  /** The latest lease of each message fetched and not yet settled, given back on close. */
  private readonly held = new Map<string, LeasedRecord>()
  private closed = false

  constructor (
    private readonly events: EventStore,
    private readonly wakeups: EmbeddedWakeups,
    private readonly binding: QueueBinding,
    private readonly consumer: string,
    private readonly onClose: (subscription: EmbeddedSubscription) => void
  ) {
    this.key = embeddedQueueKey(binding.namespace, binding.queue)
  }

  async fetch (max: number, waitMs: number, signal?: AbortSignal): Promise<BrokerMessage[]> {
    const deadline = Date.now() + (Number.isFinite(waitMs) ? Math.max(0, waitMs) : 0)
    const batch = Math.min(Math.max(0, Math.floor(max)), MAX_BATCH)
    if (batch === 0) return []
    for (;;) {
      if (this.closed || signal?.aborted === true) return []
      const records = this.store().lease(this.binding.namespace, this.binding.queue, { max: batch, leaseMs: this.binding.leaseMs, consumer: this.consumer })
      if (records.length > 0) return records.map((record) => this.handOut(record))
      const left = deadline - Date.now()
      if (left <= 0) return []
      await this.wakeups.wait(this.key, Math.min(left, this.untilWorthLooking()), signal)
    }
  }

  ackMany (messages: readonly BrokerMessage[]): Promise<SettleAck[]> {
    // Each settlement is a transaction of its own on the events database.
    return Promise.all(messages.map((message) => this.ack(message)))
  }

  async ack (message: BrokerMessage): Promise<SettleAck> {
    return this.settle(message, { outcome: 'succeeded' })
  }

  async retry (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    return this.settle(message, { outcome: 'failed', cause: 'retry', retryAfterMs: delayMs })
  }

  async release (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    return this.settle(message, { outcome: 'released', reason: 'drained', delayMs: boundedDelay(delayMs) })
  }

  async dead (message: BrokerMessage, reason: string): Promise<SettleAck> {
    return this.settle(message, { outcome: 'dead', reason })
  }

  async working (message: BrokerMessage): Promise<SettleAck> {
    const lease = this.leases.get(message)
    if (lease === undefined) return 'lease-lost'
    try {
      this.store().extendLease(lease, this.binding.leaseMs)
      return 'settled'
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error
      this.forget(message, lease)
      return 'lease-lost'
    }
  }

  async backlog (): Promise<Backlog> {
    const stats = this.store().stats(this.binding.namespace, this.binding.queue)
    return { waiting: stats.waiting, inFlight: stats.leased }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    const held = [...this.held.values()]
    this.held.clear()
    if (held.length > 0 && this.events.isOpen) {
      this.events.settle(held.map((lease): Settlement => ({ id: lease.id, token: lease.token, outcome: 'released', reason: 'stopped' })))
    }
    // Wakes this subscription's own waiting fetches (they return []) and others' (the released messages are theirs now).
    this.wakeups.wake(this.key)
    this.onClose(this)
  }

  private handOut (record: LeasedRecord): BrokerMessage {
    const message: BrokerMessage = {
      id: record.id,
      attempt: record.attempt,
      body: record.body,
      bodyType: record.bodyType,
      source: record.source,
      type: record.type,
      subject: record.subject,
      contentType: record.contentType,
      attributes: record.attributes,
      publishedAt: record.createdAt
    }
    this.leases.set(message, record)
    this.held.set(record.id, record)
    return message
  }

  private settle (message: BrokerMessage, outcome: Outcome): SettleAck {
    const lease = this.leases.get(message)
    if (lease === undefined) return 'lease-lost'
    const [result] = this.store().settle([{ id: lease.id, token: lease.token, ...outcome } as Settlement])
    this.forget(message, lease)
    // A settlement may make the message ready again (a retry, a release): a waiting fetch may take it.
    if (result?.settled === true && result.state === 'ready') this.wakeups.wake(this.key)
    return result?.settled === true ? 'settled' : 'lease-lost'
  }

  /** A delivery is settled once, whatever the outcome: its lease is no longer this subscription's to use. */
  private forget (message: BrokerMessage, lease: LeasedRecord): void {
    this.leases.delete(message)
    if (this.held.get(lease.id) === lease) this.held.delete(lease.id)
  }

  /** Until the queue's next record is due or the next lease runs out, at most a poll interval; at least a millisecond. */
  private untilWorthLooking (): number {
    const now = Date.now()
    let ms = EMBEDDED_POLL_MS
    const due = this.store().nextDueAt(this.binding.namespace, this.binding.queue)
    if (due !== undefined) ms = Math.min(ms, due - now)
    const expiry = this.events.nextLeaseExpiry()
    if (expiry !== undefined) ms = Math.min(ms, expiry - now)
    return Math.max(1, ms)
  }

  private store (): EventStore {
    if (!this.events.isOpen) {
      throw new BrokerUnavailableError(`the embedded queue of ${this.binding.namespace}/${this.binding.queue} is closed`, {
        hint: 'the platform is stopping, or the connector was closed'
      })
    }
    return this.events
  }
}

/** A release's delay as the store takes it: whole milliseconds, 0 to the longest delay a record may have. */
function boundedDelay (ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(0, Math.floor(ms)), RECORD_LIMITS.maxDelayMs) : 0
}
