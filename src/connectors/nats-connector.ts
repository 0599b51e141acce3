// Roost's queues on NATS JetStream (docs/connectors.md, "NATS JetStream"): a
// queue is a stream read through a durable pull consumer with explicit acks,
// with JetStream's own mechanisms — ack, nak with a delay (retry and release),
// +WPI (working), +TERM (dead), Nats-Msg-Id deduplication on publish, and the
// consumer's pending and ack-pending as the backlog. One connection per
// connector, shared by its subscriptions and publishes; the client reconnects
// it for good, on the schedule of reconnect-backoff.ts.
import { hostname } from 'node:os'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { ConsumerInfo, JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { BrokerMissingError, BrokerUnavailableError, BrokerUnsupportedError } from '../errors/index.js'
import type { Capabilities, Connector, ConnectorState, OutgoingMessage, QueueBinding, Subscription } from './connector.js'
import { reconnectDelay } from './reconnect-backoff.js'
import { natsCapabilities, takesTermReason } from './nats-capabilities.js'
import {
  describe, isNoStreamAnswer, isNotFound, NATS_REQUEST_TIMEOUT_MS, natsAddress, natsConnectionOptions, natsFailure, unavailable
} from './nats-client.js'
import { outgoingHeaders } from './nats-message.js'
import { natsNames, publishSubject } from './nats-names.js'
import type { NatsNames } from './nats-names.js'
import { NatsSubscription } from './nats-subscription.js'
import { FirstConnect } from './first-connect.js'

export interface NatsConnectorOptions {
  /** `nats://[user:password@ | token@]host:port`. */
  url: string
  /** How this process appears on the server: the connection's name. */
  clientName?: string
  /** For the reconnect backoff's jitter. */
  random?: () => number
}

// A consumer's ack wait when its configuration names none (JetStream's default).
const DEFAULT_ACK_WAIT_NS = 30_000_000_000
// JetStream's answer when a stream name is taken (a stream made at the same time by another subscriber).
const STREAM_NAME_IN_USE = 10058

interface Open {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
}

export class NatsConnector implements Connector {
  readonly kind = 'nats' as const
  private readonly url: string
  private readonly address: string
  private readonly clientName: string
  private readonly random: () => number
  private readonly listeners: Array<(state: ConnectorState) => void> = []
  private readonly subscriptions = new Set<NatsSubscription>()
  private open: Open | undefined
  private readonly connecting = new FirstConnect<Capabilities>(async () => await this.openConnection())
  private capabilities: Capabilities | undefined
  private connected = false
  private everConnected = false
  private closed = false
  /** Reconnect tries since the connection was lost, as the client's status reports them. */
  private reconnectTries = 0
  private reportedTries = 0
  private wait: { tries: number, ms: number } | undefined
  private lastError = ''
  private redialTimer: NodeJS.Timeout | undefined

  constructor (options: NatsConnectorOptions) {
    this.url = options.url
    this.address = natsAddress(options.url)
    this.clientName = options.clientName ?? `roost-${hostname()}-${process.pid}`
    this.random = options.random ?? Math.random
  }

  connect (): Promise<Capabilities> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError(`the connector to ${this.address} is closed`))
    return this.connecting.get()
  }

  async subscribe (binding: QueueBinding): Promise<Subscription> {
    const names = natsNames(binding)
    const { jsm } = await this.ready()
    const consumer = binding.create ? await this.createConsumer(jsm, names, binding.leaseMs) : await this.requireConsumer(jsm, names)
    const subscription = new NatsSubscription({
      link: () => this.link(),
      names,
      leaseMs: Math.max(1, Math.round((consumer.config.ack_wait ?? DEFAULT_ACK_WAIT_NS) / 1_000_000)),
      termWithReason: takesTermReason(this.open?.nc.info?.version),
      address: this.address,
      connected: () => this.connected && !this.closed,
      closed: (closed) => this.subscriptions.delete(closed)
    })
    this.subscriptions.add(subscription)
    return subscription
  }

  async publish (binding: QueueBinding, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const names = natsNames(binding, { consumer: false })
    // Every message's headers are laid out before any is sent, so attributes no header can carry fail the whole publish.
    const headers = messages.map(outgoingHeaders)
    const { js, jsm } = await this.ready()
    const subject = publishSubject(names.subject)
    const send = (): Promise<unknown> => Promise.all(messages.map((message, i) => js.publish(subject, message.body, {
      msgID: message.id, headers: headers[i], expect: { streamName: names.stream }, timeout: NATS_REQUEST_TIMEOUT_MS
    })))
    try {
      await send()
    } catch (err) {
      if (!isNoStreamAnswer(err)) throw natsFailure(err, this.address)
      if (!binding.create) throw this.streamMissing(names)
      // No stream takes the subject yet: made as a subscription would make it, then sent again (Nats-Msg-Id keeps what got through once).
      await this.ensureStream(jsm, names)
      try {
        await send()
      } catch (again) {
        throw natsFailure(again, this.address)
      }
    }
  }

  onState (listener: (state: ConnectorState) => void): void {
    this.listeners.push(listener)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.redialTimer)
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()))
    const open = this.open
    this.open = undefined
    if (open !== undefined) await open.nc.close().catch(ignore)
    this.connected = false
    this.emit({ state: 'closed' })
  }

  private async openConnection (): Promise<Capabilities> {
    const { open, capabilities } = await this.dial()
    if (this.closed) {
      await open.nc.close().catch(ignore)
      throw new BrokerUnavailableError(`the connector to ${this.address} is closed`)
    }
    this.capabilities = capabilities
    this.everConnected = true
    this.use(open)
    this.emit({ state: 'connected', server: capabilities.server })
    return capabilities
  }

  private async dial (): Promise<{ open: Open, capabilities: Capabilities }> {
    let nc: NatsConnection
    try {
      nc = await connect(natsConnectionOptions({ url: this.url, name: this.clientName, reconnectWait: () => this.reconnectWait() }))
    } catch (err) {
      throw new BrokerUnavailableError(`cannot connect to NATS at ${this.address}: ${describe(err)}`, {
        hint: 'check that the server runs and that the trigger\'s url (host, port, credentials) is right',
        cause: err
      })
    }
    try {
      const capabilities = natsCapabilities(nc.info ?? {})
      // It asks the server for the account's JetStream: an account without it is refused here, not at the first fetch.
      const jsm = await jetstreamManager(nc, { timeout: NATS_REQUEST_TIMEOUT_MS })
      return { open: { nc, jsm, js: jetstream(nc, { timeout: NATS_REQUEST_TIMEOUT_MS }) }, capabilities }
    } catch (err) {
      await nc.close().catch(ignore)
      throw natsFailure(err, this.address)
    }
  }

  private use (open: Open): void {
    this.open = open
    this.connected = true
    this.watch(open.nc)
  }

  // The client reports its connection's life as a stream of statuses; they become onState's states.
  private watch (nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        switch (status.type) {
          case 'disconnect': this.lose(); break
          case 'reconnecting': this.reconnectTries++; break
          case 'reconnect': this.regain(); break
          case 'error': this.lastError = describe(status.error); break
        }
      }
    })().catch(ignore)
    void nc.closed().then((err) => this.closedUnderneath(nc, err))
  }

  // The client gives up on a connection only for a reason of the server's (credentials refused on reconnect): a new one is dialled, with backoff.
  private closedUnderneath (nc: NatsConnection, err: Error | void): void {
    if (this.closed || this.open?.nc !== nc) return
    this.open = undefined
    this.connected = false
    this.reconnectTries = 0
    this.reportedTries = 0
    this.wait = undefined
    for (const subscription of this.subscriptions) subscription.connectionLost()
    this.redial(0, err instanceof Error ? describe(err) : 'the client closed it')
  }

  private redial (attempt: number, reason: string): void {
    const retryInMs = reconnectDelay(attempt, this.random)
    this.emit({ state: 'disconnected', reason: `the connection to ${this.address} was closed: ${reason}`, retryInMs })
    clearTimeout(this.redialTimer)
    this.redialTimer = setTimeout(() => {
      if (this.closed) return
      this.dial().then(({ open }) => {
        if (this.closed) {
          void open.nc.close().catch(ignore)
          return
        }
        this.use(open)
        this.regain()
      }, (failure: unknown) => this.redial(attempt + 1, describe(failure)))
    }, retryInMs)
  }

  private lose (): void {
    if (this.closed) return
    this.connected = false
    for (const subscription of this.subscriptions) subscription.connectionLost()
    const reason = `the connection to ${this.address} was lost${this.lastError === '' ? '' : ` (${this.lastError})`}`
    // The client's first try after a loss is at once.
    this.emit({ state: 'disconnected', reason, retryInMs: 0 })
  }

  private regain (): void {
    if (this.open === undefined) return
    this.reconnectTries = 0
    this.reportedTries = 0
    this.wait = undefined
    this.lastError = ''
    if (this.closed || this.capabilities === undefined) return
    this.connected = true
    this.emit({ state: 'connected', server: this.capabilities.server })
  }

  // Asked by the client before each reconnect try, the same answer until a try is made; a new try count means the last one failed.
  private reconnectWait (): number {
    const tries = this.reconnectTries
    if (this.wait === undefined || this.wait.tries !== tries) {
      this.wait = { tries, ms: reconnectDelay(Math.max(0, tries - 1), this.random) }
      if (tries > this.reportedTries && this.everConnected && !this.closed && !this.connected) {
        this.reportedTries = tries
        this.emit({ state: 'disconnected', reason: `cannot reach NATS at ${this.address} (try ${tries})`, retryInMs: this.wait.ms })
      }
    }
    return this.wait.ms
  }

  private link (): Open {
    if (this.open === undefined) throw unavailable(this.address, 'the connection is down and being retried')
    return this.open
  }

  /** The open connection, connecting first when it has not; rejects with BrokerUnavailableError while the server is away. */
  private async ready (): Promise<Open> {
    await this.connect()
    const open = this.open
    if (open === undefined || !this.connected) throw unavailable(this.address, 'the connection is down and being retried')
    return open
  }

  private async ensureStream (jsm: JetStreamManager, names: NatsNames): Promise<void> {
    try {
      await jsm.streams.info(names.stream)
      return
    } catch (err) {
      if (!isNotFound(err, 'stream')) throw natsFailure(err, this.address)
    }
    try {
      await jsm.streams.add({ name: names.stream, subjects: [names.subject] })
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) return
      throw natsFailure(err, this.address)
    }
  }

  // Created, or updated to the binding's lease when it is there: the trigger owns the consumer it creates.
  private async createConsumer (jsm: JetStreamManager, names: NatsNames, leaseMs: number): Promise<ConsumerInfo> {
    await this.ensureStream(jsm, names)
    try {
      return await jsm.consumers.add(names.stream, {
        durable_name: names.consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: Math.max(1, Math.round(leaseMs)) * 1_000_000,
        deliver_policy: DeliverPolicy.All,
        filter_subject: names.subject,
        // Unlimited: Roost's consumer loop counts attempts and dead-letters; releases raise JetStream's count but use no attempt.
        max_deliver: -1
      })
    } catch (err) {
      throw natsFailure(err, this.address)
    }
  }

  private async requireConsumer (jsm: JetStreamManager, names: NatsNames): Promise<ConsumerInfo> {
    let info: ConsumerInfo
    try {
      info = await jsm.consumers.info(names.stream, names.consumer)
    } catch (err) {
      if (isNotFound(err, 'stream')) throw this.streamMissing(names)
      if (isNotFound(err, 'consumer')) {
        throw new BrokerMissingError(`JetStream stream ${JSON.stringify(names.stream)} has no consumer ${JSON.stringify(names.consumer)} on ${this.address}`, {
          field: 'consumer',
          hint: `create it (nats consumer add ${names.stream} ${names.consumer} --pull --ack explicit --filter '${names.subject}'), or let the trigger create it (create: true)`
        })
      }
      throw natsFailure(err, this.address)
    }
    if (info.config.deliver_subject !== undefined && info.config.deliver_subject !== '') {
      throw new BrokerUnsupportedError(`JetStream consumer ${JSON.stringify(names.consumer)} on stream ${JSON.stringify(names.stream)} is a push consumer`, {
        field: 'consumer', hint: 'Roost fetches through a pull consumer: name a pull consumer, or let the trigger create one (create: true)'
      })
    }
    if (info.config.ack_policy !== AckPolicy.Explicit) {
      throw new BrokerUnsupportedError(`JetStream consumer ${JSON.stringify(names.consumer)} acknowledges ${info.config.ack_policy}, not explicit`, {
        field: 'consumer', hint: 'Roost settles each message itself: the consumer needs ack_policy explicit'
      })
    }
    return info
  }

  private streamMissing (names: NatsNames): BrokerMissingError {
    return new BrokerMissingError(`JetStream stream ${JSON.stringify(names.stream)} does not exist on ${this.address} (or does not take subject ${names.subject})`, {
      field: 'stream',
      hint: `create it (nats stream add ${names.stream} --subjects '${names.subject}'), or let the trigger create it (create: true)`
    })
  }

  private emit (state: ConnectorState): void {
    for (const listener of this.listeners) {
      try {
        listener(state)
      } catch {
        // A listener's failure is its own; the connection goes on.
      }
    }
  }
}

function ignore (): void {}
