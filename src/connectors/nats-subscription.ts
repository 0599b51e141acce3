// One consumer of a durable JetStream pull consumer. A fetch is a pull
// request for a single message that waits up to the fetch's wait (in slices
// of at most PULL_SLICE_MS), then one no_wait pull for the rest of the batch (nats-pull.ts), so it answers as soon
// as the first message is there and never holds a pull open afterwards. Each
// fetched message is held with its reply subject and its lease clock
// (nats-lease.ts): a settlement is a request to that subject that the server
// answers once it has acted, and is refused here, sending nothing, once the
// lease may have run out on the server.
import type { Msg, NatsConnection } from '@nats-io/transport-node'
import type { JetStreamManager } from '@nats-io/jetstream'
import { BrokerMissingError } from '../errors/index.js'
import type { Backlog, BrokerMessage, SettleAck, Subscription } from './connector.js'
import { ackRepliesOf } from './nats-ack-replies.js'
import type { AckAnswer } from './nats-ack-replies.js'
import { ACK, nak, term, WORKING } from './nats-acks.js'
import { parseAckSubject } from './nats-ack-subject.js'
import { isNotFound, NATS_REQUEST_TIMEOUT_MS, natsFailure, unavailable } from './nats-client.js'
import { leaseEnd, leaseStart } from './nats-lease.js'
import { deliveredMessage } from './nats-message.js'
import type { NatsNames } from './nats-names.js'
import { pull } from './nats-pull.js'
import type { Arrival, PullOutcome } from './nats-pull.js'
import { ReleaseCounts } from './nats-releases.js'

// The two settlements sent most, as bytes once: nats.js would encode the string again for every message.
const ACK_BYTES = new TextEncoder().encode(ACK)
const WORKING_BYTES = new TextEncoder().encode(WORKING)

/** The longest one pull request waits on the server. */
export const PULL_SLICE_MS = 5_000


interface Lease {
  reply: string
  streamSequence: number
  /** Epoch ms after which a settlement is refused here. */
  endsAt: number
}

/** The connector's connection as it is now (a new one after the client gave up on the old). */
export interface NatsLink {
  nc: NatsConnection
  jsm: JetStreamManager
}

export interface NatsSubscriptionSettings {
  link: () => NatsLink
  names: NatsNames
  /** The consumer's ack wait, in ms. */
  leaseMs: number
  /** Whether the server takes `+TERM <reason>` (2.11 and later). */
  termWithReason: boolean
  /** `nats://host:port`, for errors. */
  address: string
  /** Whether the connection is up now, as the connector follows it. */
  connected: () => boolean
  /** Called once the subscription has closed. */
  closed: (subscription: NatsSubscription) => void
}

export class NatsSubscription implements Subscription {
  private readonly settings: NatsSubscriptionSettings
  private readonly held = new Map<BrokerMessage, Lease>()
  private readonly releases = new ReleaseCounts()
  /** Pulls the server may still serve (given up here, or still running). */
  private readonly outstanding = new Set<Promise<void>>()
  private readonly closeController = new AbortController()
  private lost = new AbortController()
  private fetching: Promise<BrokerMessage[]> | undefined
  private closing: Promise<void> | undefined

  constructor (settings: NatsSubscriptionSettings) {
    this.settings = settings
  }

  fetch (max: number, waitMs: number, signal?: AbortSignal): Promise<BrokerMessage[]> {
    if (this.closing !== undefined || signal?.aborted === true) return Promise.resolve([])
    const count = Number.isFinite(max) ? Math.max(1, Math.floor(max)) : 1
    const wait = Number.isFinite(waitMs) ? Math.max(0, waitMs) : 0
    const deadline = Date.now() + wait
    // One fetch at a time, so that the batch a fetch asks for is all it can be given.
    const previous = this.fetching
    const fetching = previous === undefined
      ? this.fetchBatch(count, wait, signal)
      : previous.catch(() => []).then(() => this.closing === undefined ? this.fetchBatch(count, Math.max(0, deadline - Date.now()), signal) : [])
    this.fetching = fetching
    void fetching.catch(() => {}).finally(() => { if (this.fetching === fetching) this.fetching = undefined })
    return fetching
  }

  ackMany (messages: readonly BrokerMessage[]): Promise<SettleAck[]> {
    // JetStream acknowledges one message per reply subject: each goes on its own, all in this turn.
    return Promise.all(messages.map((message) => this.ack(message)))
  }

  ack (message: BrokerMessage): Promise<SettleAck> {
    return this.settle(message, ACK_BYTES, 'settled')
  }

  retry (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    return this.settle(message, nak(delayMs), 'retried')
  }

  release (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    return this.settle(message, nak(delayMs), 'released')
  }

  working (message: BrokerMessage): Promise<SettleAck> {
    return this.settle(message, WORKING_BYTES, 'working')
  }

  dead (message: BrokerMessage, reason: string): Promise<SettleAck> {
    return this.settle(message, term(reason, this.settings.termWithReason), 'settled')
  }

  async backlog (): Promise<Backlog> {
    const { names, address } = this.settings
    this.requireConnection()
    const { jsm } = this.settings.link()
    try {
      const info = await jsm.consumers.info(names.stream, names.consumer)
      return { waiting: info.num_pending, inFlight: info.num_ack_pending }
    } catch (err) {
      if (isNotFound(err, 'stream') || isNotFound(err, 'consumer')) throw this.gone(err)
      throw natsFailure(err, address)
    }
  }

  close (): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  /** The connection was lost: a running fetch gives up now, and what it brought is left to come back when its lease runs out. */
  connectionLost (): void {
    const lost = this.lost
    this.lost = new AbortController()
    lost.abort()
  }

  private async fetchBatch (max: number, waitMs: number, signal: AbortSignal | undefined): Promise<BrokerMessage[]> {
    if (waitMs <= 0) return await this.pullOnce(max, 0, signal)
    const deadline = Date.now() + waitMs
    let first: BrokerMessage[] = []
    // A long wait is a row of shorter pulls, so that one given up (aborted, closing) is not served by the server for long after.
    for (let left = waitMs; left > 0 && first.length === 0; left = deadline - Date.now()) {
      if (this.closing !== undefined || signal?.aborted === true) return []
      first = await this.pullOnce(1, Math.min(left, PULL_SLICE_MS), signal)
    }
    if (first.length === 0 || max <= 1) return first
    try {
      return first.concat(await this.pullOnce(max - 1, 0, signal))
    } catch {
      // What the first pull brought is held: it is delivered; the rest waits for the next fetch.
      return first
    }
  }

  private async pullOnce (batch: number, waitMs: number, signal: AbortSignal | undefined): Promise<BrokerMessage[]> {
    const { names, address } = this.settings
    this.requireConnection()
    const { nc } = this.settings.link()
    const lost = this.lost.signal
    const signals = [this.closeController.signal, lost]
    if (signal !== undefined) signals.push(signal)
    let outcome: PullOutcome
    try {
      outcome = await pull({
        nc, stream: names.stream, consumer: names.consumer, batch, waitMs, signal: AbortSignal.any(signals), stray: (msg) => this.giveBack(msg)
      })
    } catch (err) {
      throw natsFailure(err, address)
    }
    this.track(outcome.finished)
    if (outcome.status !== undefined) {
      for (const { msg } of outcome.messages) this.giveBack(msg)
      throw this.pullFailure(outcome.status)
    }
    if (lost.aborted) throw unavailable(address, 'the connection was lost during the fetch')
    if (this.closing !== undefined || signal?.aborted === true) {
      for (const { msg } of outcome.messages) this.giveBack(msg)
      return []
    }
    // The server ends every pull it serves; one it left unanswered went to a consumer that is not there (JetStream says nothing then).
    if (!outcome.complete && outcome.messages.length === 0) await this.backlog()
    return this.hold(outcome.messages, outcome.sentAt)
  }

  private hold (arrivals: readonly Arrival[], sentAt: number): BrokerMessage[] {
    const { leaseMs } = this.settings
    const messages: BrokerMessage[] = []
    for (const { msg, at } of arrivals) {
      const delivery = parseAckSubject(msg.reply)
      // Not a JetStream delivery: nothing could settle it, and no consumer of this pull sends such a thing.
      if (delivery === undefined) continue
      const attempt = this.releases.attempt(delivery.streamSequence, delivery.deliveryCount)
      const message = deliveredMessage(delivery, msg.data, msg.headers, attempt)
      this.held.set(message, { reply: msg.reply as string, streamSequence: delivery.streamSequence, endsAt: leaseEnd(leaseStart(sentAt, at, leaseMs), leaseMs) })
      messages.push(message)
    }
    return messages
  }

  private async settle (message: BrokerMessage, payload: string | Uint8Array, effect: 'settled' | 'retried' | 'released' | 'working'): Promise<SettleAck> {
    const lease = this.held.get(message)
    if (lease === undefined) return 'lease-lost'
    const sentAt = Date.now()
    if (sentAt >= lease.endsAt) {
      this.held.delete(message)
      return 'lease-lost'
    }
    this.requireConnection()
    const { nc } = this.settings.link()
    let answer: AckAnswer
    try {
      // A request, not a publish: the server answers once it has acted, so nothing buffered is taken for done.
      answer = await ackRepliesOf(nc, NATS_REQUEST_TIMEOUT_MS).request(lease.reply, payload)
    } catch (err) {
      // Still held: settled again once the server is back, if the lease has not run out by then.
      throw natsFailure(err, this.settings.address)
    }
    // No one serves the reply subject: the consumer is gone, and the lease with it.
    if (answer === 'no-responders') {
      this.held.delete(message)
      return 'lease-lost'
    }
    if (effect === 'working') {
      lease.endsAt = leaseEnd(sentAt, this.settings.leaseMs)
      return 'settled'
    }
    this.held.delete(message)
    if (effect === 'released') this.releases.add(lease.streamSequence)
    else if (effect === 'settled') this.releases.forget(lease.streamSequence)
    return 'settled'
  }

  // A message this subscription will not hand out: back to the consumer at once, its delivery counted as a release.
  private giveBack (msg: Msg): void {
    const delivery = parseAckSubject(msg.reply)
    if (delivery === undefined) return
    this.releases.add(delivery.streamSequence)
    try {
      msg.respond(nak(0))
    } catch {
      // The connection is gone: the message comes back when its ack wait runs out.
    }
  }

  private track (finished: Promise<void>): void {
    this.outstanding.add(finished)
    void finished.then(() => this.outstanding.delete(finished))
  }

  private requireConnection (): void {
    if (!this.settings.connected()) throw unavailable(this.settings.address, 'the connection is down and being retried')
  }

  private pullFailure (status: { code: number, description: string }): Error {
    if (status.code === 503 || (status.code === 409 && /deleted/i.test(status.description))) return this.gone()
    return unavailable(this.settings.address, `the pull request ended with ${status.code} ${status.description}`.trim())
  }

  private gone (cause?: unknown): BrokerMissingError {
    const { stream, consumer } = this.settings.names
    return new BrokerMissingError(`JetStream stream ${JSON.stringify(stream)} or its consumer ${JSON.stringify(consumer)} is gone (${this.settings.address})`, {
      hint: 'the stream or consumer was deleted while the trigger consumed it: recreate it, or let the trigger create it (create: true)',
      cause
    })
  }

  private async shutDown (): Promise<void> {
    this.closeController.abort()
    await this.fetching?.catch(ignore)
    // What is held goes back now, using no attempt (not the messages' fault); what cannot, comes back when its lease runs out.
    const releases: Promise<unknown>[] = []
    for (const message of this.held.keys()) releases.push(this.release(message, 0).catch(ignore))
    await Promise.all(releases)
    this.held.clear()
    // A pull given up here may still bring messages until its expiry: they are given back as they come.
    await Promise.all([...this.outstanding])
    this.settings.closed(this)
  }
}

function ignore (): void {}
