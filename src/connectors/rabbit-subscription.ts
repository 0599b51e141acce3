// One consumer on one RabbitMQ queue, on a channel of its own. The broker
// holds an unacknowledged message until the channel closes, so the lease is
// Roost's: a clock per fetched message (leaseMs from the fetch or the last
// working()), and when it runs out the message is rejected back to the queue
// (counted, as a lease that runs out is everywhere), and every later
// settlement of it answers lease-lost. A consumer with prefetch pushes
// messages ahead of the fetches; it runs only while fetches come, and what it
// pushed that nobody fetched is given back, uncounted, when it stops.
import type { Channel, Message } from 'amqplib'
import { RECORD_LIMITS } from '../events/index.js'
import type { Backlog, BrokerMessage, SettleAck, Subscription } from './connector.js'
import { closedEither } from './rabbit-close.js'
import { queueMissing, rabbitFailure, unavailable } from './rabbit-failure.js'
import { copyOptions, deliveryAttempt, deliveryMessage } from './rabbit-message.js'
import { OpenTags } from './rabbit-open-tags.js'
import type { Outgoing } from './rabbit-publisher.js'
import { delayBucket } from './rabbit-topology.js'

/** How long a consumer runs with no fetch waiting before it stops (what it pushed ahead is given back once a lease would have run out). */
export const HOLD_UNFETCHED_MS = 1_000
/** How long a settlement waits for the broker to have processed it before it answers lease-lost. */
const BARRIER_TIMEOUT_MS = 5_000

/** What a subscription needs of its connector (implemented there; kept here so that nothing imports back). */
export interface RabbitLink {
  readonly address: string
  /** A new channel on the current connection; rejects with BrokerUnavailableError while it is down. */
  openChannel (): Promise<Channel>
  /** Publishes and waits for the broker's confirms. */
  publish (messages: readonly Outgoing[]): Promise<void>
  /** Declares (or refreshes) the delay queue for a delay bucket of `queue`, and names it. */
  delayQueue (queue: string, delayMs: number): Promise<string>
  /** Declares the queue again after a reconnect, when the binding creates it. */
  prepare (queue: string): Promise<void>
  backlog (queue: string): Promise<Backlog>
}

export interface RabbitSubscriptionSettings {
  queue: string
  prefetch: number
  leaseMs: number
  link: RabbitLink
  /** Called once the subscription has closed. */
  closed: (subscription: RabbitSubscription) => void
}

interface Lease {
  delivery: Message
  channel: Channel
  /** When it runs out (epoch ms) unless renewed: the sweep gives it back then. */
  expiresAt: number
}

interface Pushed {
  delivery: Message
  channel: Channel
}

interface Waiter {
  max: number
  resolve: (messages: BrokerMessage[]) => void
  reject: (err: Error) => void
}

export class RabbitSubscription implements Subscription {
  private readonly settings: RabbitSubscriptionSettings
  private readonly held = new Map<BrokerMessage, Lease>()
  private readonly waiters: Waiter[] = []
  /** Pushed by the consumer and not fetched yet (unacknowledged on the channel). */
  private pushed: Pushed[] = []
  private channel: Channel | undefined
  private consumerTag: string | undefined
  /** Consuming, cancelling and giving back run one after another. */
  private consumerOps: Promise<void> = Promise.resolve()
  private idleTimer: NodeJS.Timeout | undefined
  /** Looks for leases that ran out while any is held: one timer for all of them, not one per message. */
  private sweepTimer: NodeJS.Timeout | undefined
  /** The current channel's delivery tags not settled yet: when one ack can settle a batch. */
  private openTags = new OpenTags()
  private flushing = false
  private barrierPending: { channel: Channel, promise: Promise<boolean> } | undefined
  private reopening: Promise<void> | undefined
  private closing: Promise<void> | undefined

  constructor (settings: RabbitSubscriptionSettings) {
    this.settings = settings
  }

  get queue (): string {
    return this.settings.queue
  }

  /** Messages pushed ahead and fetched-unsettled, for the connector's backlog. */
  get counts (): { pushed: number, held: number } {
    return { pushed: this.pushed.filter((p) => p.channel === this.channel).length, held: this.held.size }
  }

  /** Opens the subscription's channel; rejects when it cannot. */
  async start (): Promise<void> {
    await this.openChannel()
  }

  /** After a reconnect: declares again what the binding creates and opens a new channel. Failures wait for the next reconnect. */
  reopen (): void {
    if (this.closing !== undefined || this.channel !== undefined) return
    // After one already under way (it may have started while the connection was still down, and fail).
    const reopening: Promise<void> = (this.reopening ?? Promise.resolve())
      .then(async () => {
        if (this.channel !== undefined || this.closing !== undefined) return
        await this.settings.link.prepare(this.settings.queue)
        await this.openChannel()
      })
      .catch(ignore)
      .finally(() => { if (this.reopening === reopening) this.reopening = undefined })
    this.reopening = reopening
  }

  async fetch (max: number, waitMs: number, signal?: AbortSignal): Promise<BrokerMessage[]> {
    if (this.closing !== undefined || signal?.aborted === true) return []
    const count = Number.isFinite(max) ? Math.max(1, Math.floor(max)) : 1
    const wait = Number.isFinite(waitMs) ? Math.max(0, waitMs) : 0
    // Just reconnected, or the channel closed: it is being opened again. A try that failed (the connection
    // stayed up, so no reconnect would try again) is tried again here, paced by the caller's fetches.
    if (this.channel === undefined) {
      this.reopen()
      await this.reopening
    }
    if (this.channel === undefined) throw unavailable(this.settings.link.address, 'the connection is down and being retried')
    this.stopIdleTimer()
    try {
      if (this.pushed.length === 0) {
        await this.consume()
        if (this.pushed.length === 0) return wait === 0 ? [] : await this.waitFor(count, wait, signal)
      }
      return this.take(count)
    } finally {
      this.startIdleTimer()
    }
  }

  /** As many acks, with one wait for the broker for all of them. */
  async ackMany (messages: readonly BrokerMessage[]): Promise<SettleAck[]> {
    const acks = new Array<SettleAck>(messages.length).fill('lease-lost')
    const leases: Lease[] = []
    const at: number[] = []
    for (let i = 0; i < messages.length; i++) {
      // A lease claimed is on the current channel.
      const lease = this.claim(messages[i] as BrokerMessage)
      if (lease === undefined) continue
      leases.push(lease)
      at.push(i)
    }
    if (leases.length === 0) return acks
    const channel = (leases[0] as Lease).channel
    try {
      const last = this.lastOf(leases)
      if (this.openTags.settledTogether(leases.map(tagOf))) {
        // No other tag up to the batch's last is open: one frame acknowledges the batch.
        channel.ack(last.delivery, true)
        for (const i of at) acks[i] = 'settled'
      } else {
        for (let k = 0; k < leases.length; k++) {
          channel.ack((leases[k] as Lease).delivery)
          acks[at[k] as number] = 'settled'
        }
      }
    } catch {
      // The channel is closing: the broker requeues what it did not take.
    }
    if (!(await this.barrier(channel))) acks.fill('lease-lost')
    return acks
  }

  ack (message: BrokerMessage): Promise<SettleAck> {
    return this.settle(message, (lease) => this.ackOne(lease))
  }

  retry (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    const delay = delayBucket(clampDelay(delayMs))
    // A reject is a return the quorum queue counts: the next delivery is the next attempt.
    if (delay === 0) return this.settle(message, (lease) => this.rejectOne(lease, true))
    return this.republish(message, message.attempt + 1, delay)
  }

  release (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    return this.republish(message, message.attempt, delayBucket(clampDelay(delayMs)))
  }

  async working (message: BrokerMessage): Promise<SettleAck> {
    const lease = this.held.get(message)
    if (lease === undefined || lease.channel !== this.channel) {
      this.forget(message)
      return 'lease-lost'
    }
    lease.expiresAt = Date.now() + this.settings.leaseMs
    return 'settled'
  }

  dead (message: BrokerMessage, _reason: string): Promise<SettleAck> {
    // Rejected without requeue, the quorum queue dead-letters it through its dead-letter exchange into <queue>.dead
    // (basic.reject, not basic.nack: from 4.3 a nack without requeue is a "modified" outcome, not a rejection).
    return this.settle(message, (lease) => this.rejectOne(lease, false))
  }

  backlog (): Promise<Backlog> {
    return this.settings.link.backlog(this.settings.queue)
  }

  close (): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  private async openChannel (): Promise<void> {
    const channel = await this.settings.link.openChannel()
    channel.on('error', ignore)
    channel.on('close', () => this.channelClosed(channel))
    try {
      // Per consumer (global false): how many unacknowledged messages the broker pushes to it.
      await channel.prefetch(this.settings.prefetch)
    } catch (err) {
      throw rabbitFailure(err, this.settings.link.address)
    }
    if (this.closing !== undefined || this.channel !== undefined) {
      await closeQuietly(channel)
      return
    }
    this.channel = channel
    this.openTags = new OpenTags()
  }

  // The broker requeued what the channel held: every lease of it is lost, and a fetch waiting on it fails.
  private channelClosed (channel: Channel): void {
    if (this.channel !== channel) return
    this.channel = undefined
    this.consumerTag = undefined
    this.pushed = []
    this.held.clear()
    this.stopSweep()
    this.stopIdleTimer()
    this.barrierPending = undefined
    const failure = unavailable(this.settings.link.address, 'the channel closed')
    for (const waiter of this.waiters.splice(0)) waiter.reject(failure)
    // A channel closed while the connection stays (a channel error) is opened again now; after a lost connection, on reconnect.
    if (this.closing === undefined) setTimeout(() => this.reopen(), 100).unref()
  }

  private consume (): Promise<void> {
    if (this.consumerTag !== undefined) return Promise.resolve()
    return this.serially(async () => {
      const channel = this.channel
      if (this.consumerTag !== undefined || this.closing !== undefined) return
      if (channel === undefined) throw unavailable(this.settings.link.address, 'the connection is down and being retried')
      try {
        const { consumerTag } = await channel.consume(this.settings.queue, (delivery) => this.delivered(channel, delivery), { noAck: false })
        if (this.channel === channel) this.consumerTag = consumerTag
      } catch (err) {
        throw rabbitFailure(err, this.settings.link.address, this.settings.queue)
      }
    })
  }

  private delivered (channel: Channel, delivery: Message | null): void {
    if (this.channel !== channel) return
    if (delivery === null) {
      // The broker cancelled the consumer: the queue was deleted.
      this.consumerTag = undefined
      const failure = queueMissing(this.settings.queue, this.settings.link.address)
      for (const waiter of this.waiters.splice(0)) waiter.reject(failure)
      return
    }
    this.pushed.push({ delivery, channel })
    this.openTags.delivered(delivery.fields.deliveryTag)
    if (!this.flushing && this.waiters.length > 0) {
      this.flushing = true
      // Deliveries that came in one read are handed out together.
      setImmediate(() => this.flush())
    }
  }

  private flush (): void {
    this.flushing = false
    while (this.waiters.length > 0 && this.pushed.length > 0) {
      const waiter = this.waiters.shift() as Waiter
      waiter.resolve(this.take(waiter.max))
    }
  }

  private waitFor (max: number, waitMs: number, signal: AbortSignal | undefined): Promise<BrokerMessage[]> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', giveUp)
        const at = this.waiters.indexOf(waiter)
        if (at >= 0) this.waiters.splice(at, 1)
      }
      const giveUp = (): void => {
        done()
        resolve([])
      }
      const waiter: Waiter = {
        max,
        resolve: (messages) => { done(); resolve(messages) },
        reject: (err) => { done(); reject(err) }
      }
      const timer = setTimeout(giveUp, waitMs)
      signal?.addEventListener('abort', giveUp, { once: true })
      this.waiters.push(waiter)
    })
  }

  private take (max: number): BrokerMessage[] {
    const messages: BrokerMessage[] = []
    const expiresAt = Date.now() + this.settings.leaseMs
    while (messages.length < max && this.pushed.length > 0) {
      const { delivery, channel } = this.pushed.shift() as Pushed
      if (channel !== this.channel) continue
      const message = deliveryMessage(this.settings.queue, delivery)
      this.held.set(message, { delivery, channel, expiresAt })
      messages.push(message)
    }
    if (messages.length > 0) this.startSweep()
    return messages
  }

  /** Sweeps a tenth of a lease apart (between 10 ms and 1 s): a lease runs out at most that late. */
  private startSweep (): void {
    if (this.sweepTimer !== undefined) return
    const every = Math.min(1000, Math.max(10, Math.floor(this.settings.leaseMs / 10)))
    this.sweepTimer = setInterval(() => this.sweep(), every)
    this.sweepTimer.unref()
  }

  private stopSweep (): void {
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
  }

  private sweep (): void {
    const now = Date.now()
    for (const [message, lease] of this.held) if (lease.expiresAt <= now) this.leaseRanOut(message)
    if (this.held.size === 0) this.stopSweep()
  }

  // Back to the queue for another consumer, counted; from now on the message is another's.
  private leaseRanOut (message: BrokerMessage): void {
    const lease = this.held.get(message)
    if (lease === undefined) return
    this.held.delete(message)
    if (lease.channel !== this.channel) return
    try {
      this.rejectOne(lease, true)
    } catch {
      // The channel is closing: the broker requeues it anyway.
    }
  }

  private ackOne (on: Pushed): void {
    on.channel.ack(on.delivery)
    if (on.channel === this.channel) this.openTags.settled(on.delivery.fields.deliveryTag)
  }

  private rejectOne (on: Pushed, requeue: boolean): void {
    on.channel.reject(on.delivery, requeue)
    if (on.channel === this.channel) this.openTags.settled(on.delivery.fields.deliveryTag)
  }

  /** The lease of the latest delivery (the greatest tag) of a batch. */
  private lastOf (leases: readonly Lease[]): Lease {
    let last = leases[0] as Lease
    for (let i = 1; i < leases.length; i++) if (tagOf(leases[i] as Lease) > tagOf(last)) last = leases[i] as Lease
    return last
  }

  /** The lease, taken out of the held map so that its timer and other settlements leave it alone; undefined when it is lost. */
  private claim (message: BrokerMessage): Lease | undefined {
    const lease = this.held.get(message)
    if (lease === undefined) return undefined
    this.held.delete(message)
    return lease.channel === this.channel ? lease : undefined
  }

  private forget (message: BrokerMessage): void {
    const lease = this.held.get(message)
    if (lease === undefined) return
    this.held.delete(message)
  }

  private async settle (message: BrokerMessage, operation: (lease: Lease) => void): Promise<SettleAck> {
    const lease = this.claim(message)
    if (lease === undefined) return 'lease-lost'
    return await this.apply(lease, () => operation(lease))
  }

  // A copy that starts again at `attempt` (into the delay queue, or the queue itself), confirmed before the original is acknowledged: a failure between them makes a duplicate, never a loss.
  private async republish (message: BrokerMessage, attempt: number, delayMs: number): Promise<SettleAck> {
    const lease = this.claim(message)
    if (lease === undefined) return 'lease-lost'
    const { queue, link } = this.settings
    try {
      const target = delayMs === 0 ? queue : await link.delayQueue(queue, delayMs)
      await link.publish([{ queue: target, content: lease.delivery.content, options: copyOptions(lease.delivery, message.id, attempt) }])
    } catch (err) {
      if (lease.channel !== this.channel) return 'lease-lost'
      // Still this subscription's: held again, so that the caller may settle it once the broker is back.
      lease.expiresAt = Date.now() + this.settings.leaseMs
      this.held.set(message, lease)
      this.startSweep()
      throw err
    }
    return this.apply(lease, () => this.ackOne(lease))
  }

  // Sends a settlement of a claimed lease and waits until the broker has it; lease-lost when the channel it came on is gone.
  private async apply (lease: Lease, operation: () => void): Promise<SettleAck> {
    if (lease.channel !== this.channel) return 'lease-lost'
    try {
      operation()
    } catch {
      return 'lease-lost'
    }
    return (await this.barrier(lease.channel)) ? 'settled' : 'lease-lost'
  }

  /**
   * Resolves true once the broker has processed every acknowledgement sent
   * on the channel before it: AMQP confirms none, but a channel's frames are
   * handled in order, so the answer to a basic.qos sent after them says so.
   * Settlements of one tick share one.
   */
  private barrier (channel: Channel): Promise<boolean> {
    if (this.barrierPending?.channel === channel) return this.barrierPending.promise
    const pending = {
      channel,
      promise: new Promise<boolean>((resolve) => {
        setImmediate(() => {
          if (this.barrierPending === pending) this.barrierPending = undefined
          const timer = setTimeout(() => resolve(false), BARRIER_TIMEOUT_MS)
          const answered = (ok: boolean): void => {
            clearTimeout(timer)
            resolve(ok && this.channel === channel)
          }
          try {
            channel.prefetch(this.settings.prefetch).then(() => answered(true), () => answered(false))
          } catch {
            answered(false)
          }
        })
      })
    }
    this.barrierPending = pending
    return pending.promise
  }

  // With no fetch waiting, the consumer stops after HOLD_UNFETCHED_MS; what it pushed ahead is kept for the next fetch until a lease would have run out, then given back.
  private startIdleTimer (): void {
    if (this.closing !== undefined || this.idleTimer !== undefined || this.waiters.length > 0) return
    if (this.consumerTag === undefined && this.pushed.length === 0) return
    const holdMs = Math.min(HOLD_UNFETCHED_MS, this.settings.leaseMs)
    this.idleTimer = setTimeout(() => {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined
        if (this.waiters.length === 0) void this.serially(() => this.giveBackPushed()).catch(ignore)
      }, this.settings.leaseMs - holdMs)
      this.idleTimer.unref()
      if (this.waiters.length === 0) void this.serially(() => this.stopConsumer()).catch(ignore)
    }, holdMs)
    this.idleTimer.unref()
  }

  private stopIdleTimer (): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
  }

  private async stopConsumer (): Promise<void> {
    const channel = this.channel
    const tag = this.consumerTag
    if (channel === undefined || tag === undefined) return
    this.consumerTag = undefined
    try {
      await channel.cancel(tag)
    } catch {
      // The channel closed: the broker requeued everything.
    }
  }

  // Cancels the consumer, then gives back what it pushed that nobody fetched (deliveries may come until the cancel is answered).
  private async stopConsuming (): Promise<void> {
    await this.stopConsumer()
    await this.giveBackPushed()
  }

  private async giveBackPushed (): Promise<void> {
    // A fetch that came meanwhile started the consumer again and takes them.
    if (this.consumerTag !== undefined) return
    const pushed = this.pushed.splice(0).filter((p) => p.channel === this.channel)
    await this.giveBack(pushed.map((p) => ({ ...p, id: deliveryMessage(this.settings.queue, p.delivery).id, attempt: deliveryAttempt(p.delivery) })))
  }

  // Copies on the same attempt (uncounted), then acknowledged; if the copies cannot be made, rejected back (counted, but never kept).
  private async giveBack (items: ReadonlyArray<Pushed & { id: string, attempt: number }>): Promise<void> {
    const current = items.filter((item) => item.channel === this.channel)
    if (current.length === 0) return
    const { queue, link } = this.settings
    try {
      await link.publish(current.map((item) => ({ queue, content: item.delivery.content, options: copyOptions(item.delivery, item.id, item.attempt) })))
    } catch {
      for (const item of current) {
        try { this.rejectOne(item, true) } catch {}
      }
      return
    }
    for (const item of current) {
      try { this.ackOne(item) } catch {}
    }
    const channel = current[0]?.channel as Channel
    await this.barrier(channel)
  }

  private serially (operation: () => Promise<void>): Promise<void> {
    const next = this.consumerOps.catch(ignore).then(operation)
    this.consumerOps = next
    return next
  }

  private async shutDown (): Promise<void> {
    this.stopIdleTimer()
    for (const waiter of this.waiters.splice(0)) waiter.resolve([])
    await this.reopening
    await this.serially(() => this.stopConsuming()).catch(ignore)
    // What is held goes back now, on the same attempt: not the messages' fault.
    const held = [...this.held].map(([message, lease]) => ({ delivery: lease.delivery, channel: lease.channel, id: message.id, attempt: message.attempt }))
    this.held.clear()
    this.stopSweep()
    await this.giveBack(held).catch(ignore)
    const channel = this.channel
    this.channel = undefined
    if (channel !== undefined) await closeQuietly(channel)
    this.settings.closed(this)
  }
}

function clampDelay (delayMs: number): number {
  return Number.isFinite(delayMs) ? Math.min(Math.max(0, Math.round(delayMs)), RECORD_LIMITS.maxDelayMs) : 0
}

async function closeQuietly (channel: Channel): Promise<void> {
  await closedEither(channel, () => channel.close())
}

function tagOf (lease: Lease): number {
  return lease.delivery.fields.deliveryTag
}

function ignore (): void {}
