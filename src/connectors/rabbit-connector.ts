// Roost's queues on RabbitMQ (docs/connectors.md, "RabbitMQ"): a queue is a
// quorum queue with a delivery limit and a dead-letter exchange into
// <queue>.dead, consumed with manual acknowledgements and prefetch; delayed
// retries and releases wait in per-delay TTL queues that dead-letter back
// into it; publishes wait for publisher confirms. One connection per
// connector, reconnected by amqplib's own recovery (2.x) on the schedule of
// reconnect-backoff.ts; channels are opened again on each new connection.
import { hostname } from 'node:os'
import amqp from 'amqplib'
import type { Channel, ChannelModel, ConfirmChannel, RecoveringChannelModel } from 'amqplib'
import { BrokerMissingError, BrokerUnavailableError, ValidationError, isRoostError } from '../errors/index.js'
import type {
  Backlog, Capabilities, Connector, ConnectorState, OutgoingMessage, QueueBinding, Subscription
} from './connector.js'
import { reconnectDelay } from './reconnect-backoff.js'
import { corkFrameWrites } from './rabbit-corked-writes.js'
import { rabbitCapabilities } from './rabbit-capabilities.js'
import type { RabbitServer } from './rabbit-capabilities.js'
import { closedEither } from './rabbit-close.js'
import { rabbitAddress, rabbitFailure, unavailable } from './rabbit-failure.js'
import { bodyBuffer, publishOptions } from './rabbit-message.js'
import { RabbitPublisher } from './rabbit-publisher.js'
import type { Outgoing } from './rabbit-publisher.js'
import { RabbitSubscription } from './rabbit-subscription.js'
import type { RabbitLink } from './rabbit-subscription.js'
import { DELAY_QUEUE_IDLE_MS, delayQueueArguments, delayQueueName, queueArguments, rabbitNames } from './rabbit-topology.js'
import { FirstConnect } from './first-connect.js'

export interface RabbitConnectorOptions {
  /** `amqp://user:password@host:port/vhost` or `amqps://…`. */
  url: string
  /** How this process appears on the broker: the connection's name. */
  clientName?: string
  /** For the reconnect backoff's jitter. */
  random?: () => number
}

/** How many unacknowledged messages the broker pushes to a consumer when the binding says nothing. */
export const DEFAULT_PREFETCH = 20
/** Heartbeats (seconds) unless the URL asks for others: a connection that silently died is noticed within two of them. */
const HEARTBEAT_S = 10
const CONNECT_TIMEOUT_MS = 5_000
/** A delay queue is declared again (which resets its x-expires) when it was declared longer ago than this. */
const DELAY_QUEUE_REFRESH_MS = DELAY_QUEUE_IDLE_MS / 2

/** One connection to the broker, as it was set up: a new one after each reconnect. */
interface Live {
  model: ChannelModel
  publisher: RabbitPublisher
  /** A new confirm channel being opened for a publisher whose channel closed. */
  replacing?: Promise<void> | undefined
}

export class RabbitConnector implements Connector {
  readonly kind = 'rabbitmq' as const
  private readonly url: string
  private readonly address: string
  private readonly clientName: string
  private readonly random: () => number
  private readonly listeners: Array<(state: ConnectorState) => void> = []
  private readonly subscriptions = new Set<RabbitSubscription>()
  /** The queues this connector creates, with their maxAttempts, for declaring them again on a new connection. */
  private readonly creates = new Map<string, number>()
  /** Declared on the current connection: name → when. */
  private readonly declared = new Map<string, number>()
  /** The delay queues declared for each queue, whose messages the backlog counts as waiting. */
  private readonly delayQueues = new Map<string, Set<string>>()
  private recovering: RecoveringChannelModel | undefined
  private live: Live | undefined
  private admin: Promise<Channel> | undefined
  private server: RabbitServer | undefined
  private readonly connecting = new FirstConnect<Capabilities>(async () => await this.open())
  private everConnected = false
  private closed = false
  private readonly link: RabbitLink

  constructor (options: RabbitConnectorOptions) {
    this.url = options.url
    this.address = rabbitAddress(options.url)
    this.clientName = options.clientName ?? `roost-${hostname()}-${process.pid}`
    this.random = options.random ?? Math.random
    this.link = {
      address: this.address,
      openChannel: () => this.openChannel(),
      publish: (messages) => this.publishOutgoing(messages),
      delayQueue: (queue, delayMs) => this.declareDelayQueue(queue, delayMs),
      prepare: async (queue) => {
        const maxAttempts = this.creates.get(queue)
        if (maxAttempts !== undefined) await this.declareQueue(queue, maxAttempts)
      },
      backlog: (queue) => this.backlogOf(queue)
    }
  }

  connect (): Promise<Capabilities> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError(`the connector to ${this.address} is closed`))
    return this.connecting.get()
  }

  async subscribe (binding: QueueBinding): Promise<Subscription> {
    await this.connect()
    const queue = queueName(binding)
    if (binding.create) {
      this.creates.set(queue, binding.maxAttempts)
      await this.declareQueue(queue, binding.maxAttempts)
    } else {
      await this.withChannel(queue, async (channel) => { await channel.checkQueue(queue) })
    }
    const subscription = new RabbitSubscription({
      queue,
      prefetch: prefetchOf(binding),
      leaseMs: Math.max(1, Math.round(binding.leaseMs)),
      link: this.link,
      closed: (closed) => this.subscriptions.delete(closed)
    })
    await subscription.start()
    this.subscriptions.add(subscription)
    return subscription
  }

  async publish (binding: QueueBinding, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const queue = queueName(binding)
    // Every message is laid out before any is sent, so attributes no header can carry fail the whole publish.
    const outgoing = messages.map((message) => ({ queue, content: bodyBuffer(message.body), options: publishOptions(message) }))
    await this.connect()
    // Without create the queue must be there: a publish to none is returned (mandatory) and rejects with BrokerMissingError.
    if (binding.create) await this.declareIfMissing(queue, binding.maxAttempts)
    await this.publishOutgoing(outgoing)
  }

  onState (listener: (state: ConnectorState) => void): void {
    this.listeners.push(listener)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()))
    await this.connecting.current?.catch(ignore)
    const recovering = this.recovering
    const model = this.live?.model
    this.recovering = undefined
    this.live = undefined
    this.admin = undefined
    if (recovering !== undefined) await closedEither(model, () => recovering.close())
    this.emit({ state: 'closed' })
  }

  private async open (): Promise<Capabilities> {
    const recovering = await amqp.connect(connectionUrl(this.url), {
      clientProperties: { connection_name: this.clientName },
      timeout: CONNECT_TIMEOUT_MS,
      // Acks, publishes and the basic.qos that confirms a turn's settlements are small frames: Nagle's algorithm would hold them behind a delayed ACK.
      noDelay: true,
      recovery: {
        // The handle comes first so that the first connection's events are seen; a first connect that fails is the caller's to retry.
        waitForConnect: false,
        initialMaxRetries: 0,
        maxRetries: Infinity,
        calculateDelay: (attempt) => reconnectDelay(attempt - 1, this.random),
        setup: (model: ChannelModel) => this.setUp(model)
      }
    })
    recovering.on('error', ignore)
    recovering.on('handler-error', ignore)
    recovering.on('disconnect', () => this.lost())
    recovering.on('reconnect-scheduled', ({ delay, error }: { delay: number, error: Error }) => {
      if (this.everConnected && !this.closed) this.emit({ state: 'disconnected', reason: describe(error), retryInMs: delay })
    })
    recovering.on('connect', () => this.regained())
    this.recovering = recovering
    try {
      await recovering.waitForConnect()
    } catch (err) {
      this.recovering = undefined
      await recovering.close().catch(ignore)
      if (isRoostError(err)) throw err
      throw new BrokerUnavailableError(`cannot connect to RabbitMQ at ${this.address}: ${describe(err)}`, {
        hint: 'check that the server runs and that the trigger\'s url (host, port, vhost, credentials) is right',
        cause: err
      })
    }
    const server = this.server as RabbitServer
    if (this.closed) throw new BrokerUnavailableError(`the connector to ${this.address} is closed`)
    this.everConnected = true
    this.emit({ state: 'connected', server: server.capabilities.server })
    return server.capabilities
  }

  // Run by amqplib's recovery on every new connection, before it counts as connected: a throw closes it and, after the first, retries.
  private async setUp (model: ChannelModel): Promise<void> {
    corkFrameWrites(model.connection)
    const server = rabbitCapabilities(model.connection.serverProperties as unknown as Record<string, unknown>)
    const channel = await model.createConfirmChannel()
    this.server = server
    this.declared.clear()
    this.admin = undefined
    this.live = { model, publisher: new RabbitPublisher(channel, this.address) }
  }

  private lost (): void {
    this.live = undefined
    this.admin = undefined
  }

  private regained (): void {
    if (!this.everConnected || this.closed || this.server === undefined) return
    // Reopening first: a fetch made once `connected` is seen waits for its subscription's new channel.
    for (const subscription of this.subscriptions) subscription.reopen()
    this.emit({ state: 'connected', server: this.server.capabilities.server })
  }

  private requireLive (): Live {
    const live = this.live
    if (live === undefined || this.closed) throw unavailable(this.address, this.closed ? 'the connector is closed' : 'the connection is down and being retried')
    return live
  }

  private async openChannel (): Promise<Channel> {
    const live = this.requireLive()
    try {
      return await live.model.createChannel()
    } catch (err) {
      throw rabbitFailure(err, this.address)
    }
  }

  private async publishOutgoing (messages: readonly Outgoing[]): Promise<void> {
    const live = this.requireLive()
    // A confirm channel closed by a channel error while the connection stays is replaced; after a lost connection setUp makes the new one.
    if (!live.publisher.isOpen) {
      live.replacing ??= this.openConfirmChannel(live).then((channel) => {
        live.publisher = new RabbitPublisher(channel, this.address)
      }).finally(() => { live.replacing = undefined })
      await live.replacing
    }
    await live.publisher.publish(messages)
  }

  private async openConfirmChannel (live: Live): Promise<ConfirmChannel> {
    try {
      return await live.model.createConfirmChannel()
    } catch (err) {
      throw rabbitFailure(err, this.address)
    }
  }

  // A channel of its own for each declaration: a refused one (404, 406) closes the channel it was made on.
  private async withChannel<T> (queue: string, work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.openChannel()
    channel.on('error', ignore)
    try {
      return await work(channel)
    } catch (err) {
      throw rabbitFailure(err, this.address, queue)
    } finally {
      await closeQuietly(channel)
    }
  }

  private async declareQueue (queue: string, maxAttempts: number): Promise<void> {
    if (this.declared.has(queue)) return
    const features = (this.server as RabbitServer).features
    const names = rabbitNames(queue)
    await this.withChannel(queue, async (channel) => {
      await channel.assertExchange(names.deadExchange, 'fanout', { durable: true })
      await channel.assertQueue(names.deadQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
      await channel.bindQueue(names.deadQueue, names.deadExchange, '')
      await channel.assertQueue(queue, { durable: true, arguments: queueArguments(names, maxAttempts, features) })
    })
    this.declared.set(queue, Date.now())
  }

  /**
   * A publisher declares the queue only when it is not there yet: one that
   * exists keeps the arguments its consumer declared it with (a publisher's
   * maxAttempts may differ, and RabbitMQ refuses a declaration with other
   * arguments). Not re-declared on a new connection: that is the subscriptions'.
   */
  private async declareIfMissing (queue: string, maxAttempts: number): Promise<void> {
    if (this.declared.has(queue)) return
    try {
      await this.withChannel(queue, async (channel) => { await channel.checkQueue(queue) })
      this.declared.set(queue, Date.now())
    } catch (err) {
      if (!(err instanceof BrokerMissingError)) throw err
      await this.declareQueue(queue, maxAttempts)
    }
  }

  private async declareDelayQueue (queue: string, delayMs: number): Promise<string> {
    const name = delayQueueName(queue, delayMs)
    const declaredAt = this.declared.get(name)
    if (declaredAt !== undefined && Date.now() - declaredAt < DELAY_QUEUE_REFRESH_MS) return name
    await this.withChannel(name, async (channel) => {
      await channel.assertQueue(name, { durable: true, arguments: delayQueueArguments(queue, delayMs) })
    })
    this.declared.set(name, Date.now())
    let known = this.delayQueues.get(queue)
    if (known === undefined) this.delayQueues.set(queue, known = new Set())
    known.add(name)
    return name
  }

  // Ready messages from the broker; what Roost's consumers hold, from the subscriptions (checkQueue does not give it).
  private async backlogOf (queue: string): Promise<Backlog> {
    let waiting = await this.readyCount(queue, true) as number
    for (const name of this.delayQueues.get(queue) ?? []) {
      const ready = await this.readyCount(name, false)
      if (ready === undefined) this.delayQueues.get(queue)?.delete(name)
      else waiting += ready
    }
    let inFlight = 0
    for (const subscription of this.subscriptions) {
      if (subscription.queue !== queue) continue
      const { pushed, held } = subscription.counts
      waiting += pushed
      inFlight += held
    }
    return { waiting, inFlight }
  }

  /** A queue's ready messages; undefined for a queue that is gone, unless it must be there (then BrokerMissingError). */
  private async readyCount (name: string, required: boolean): Promise<number | undefined> {
    this.requireLive()
    const admin = this.admin ??= this.openChannel().then((channel) => {
      channel.on('error', ignore)
      channel.on('close', () => { if (this.admin === admin) this.admin = undefined })
      return channel
    })
    admin.catch(() => { if (this.admin === admin) this.admin = undefined })
    try {
      return (await (await admin).checkQueue(name)).messageCount
    } catch (err) {
      if (this.admin === admin) this.admin = undefined
      const failure = rabbitFailure(err, this.address, name)
      if (!required && failure instanceof BrokerMissingError) return undefined
      throw failure
    }
  }

  private emit (state: ConnectorState): void {
    for (const listener of this.listeners) listener(state)
  }
}

// The server's suggested heartbeat is 60 s: a publish waiting for its confirm on a dead connection would wait up to two minutes.
function connectionUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.searchParams.has('heartbeat')) return url
    parsed.searchParams.set('heartbeat', String(HEARTBEAT_S))
    return parsed.toString()
  } catch {
    // amqplib refuses it with its own words, which connect() passes on.
    return url
  }
}

function queueName (binding: QueueBinding): string {
  const queue = binding.rabbitQueue ?? binding.queue
  if (typeof queue !== 'string' || queue === '' || queue.length > 200) {
    throw new ValidationError([{ field: 'rabbitQueue', message: 'a RabbitMQ queue trigger names its queue (1 to 200 characters; Roost adds .dead, .dlx and .delay.<ms> to it)' }])
  }
  return queue
}

function prefetchOf (binding: QueueBinding): number {
  const prefetch = binding.prefetch
  return prefetch !== undefined && Number.isSafeInteger(prefetch) && prefetch >= 1 && prefetch <= 65_535 ? prefetch : DEFAULT_PREFETCH
}

function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

async function closeQuietly (channel: Channel): Promise<void> {
  await closedEither(channel, () => channel.close())
}

function ignore (): void {}
