// The seam between Roost and a message broker (docs/connectors.md): one
// interface that the embedded queue and each broker implement, in a file of
// their own, and that one contract test (test/connectors/contract.ts) runs
// against every implementation. The consumer loop above it (src/dispatch)
// knows nothing of any broker: it fetches, delivers through the gateway, and
// settles each message with ack, retry, dead or release.
import type { BodyType, MessageContent } from '../events/index.js'

export type ConnectorKind = 'embedded' | 'nats' | 'redis' | 'rabbitmq'

/** What a queue trigger names on its broker, resolved: credentials are in `url`, never in a stored manifest. */
export interface QueueBinding {
  connector: ConnectorKind
  /** The namespace of the consuming function: the embedded queue's namespace, and part of every derived name. */
  namespace: string
  /** Roost's name for this queue (the trigger's `queue`, or the broker's stream/queue name): its dead records, metrics and `roost dlq` use it. */
  queue: string
  /** `nats://…`, `redis://…`, `amqp://user:pass@…`; unused by the embedded queue. */
  url: string
  /** Create the stream, group or queue when it is not there; false: subscribe rejects with BrokerMissingError. */
  create: boolean
  /** Counted attempts before a message is dead (the same count on every broker; Roost counts where a broker does not). */
  maxAttempts: number
  /** How long a fetched message is held before the broker gives it to another consumer, unless `working` extends it. */
  leaseMs: number
  /** NATS JetStream: the stream, the subject filter of the consumer, and the durable consumer's name. */
  stream?: string
  subject?: string
  consumer?: string
  /** Redis Streams: the stream key (`stream`) and the consumer group. */
  group?: string
  /** RabbitMQ: the queue, and how many unacknowledged messages the broker may push ahead of the handler. */
  rabbitQueue?: string
  prefetch?: number
}

/**
 * One message as a broker handed it over. Its attributes are the ones Roost
 * published with it, or ones derived for a message a broker's own client published.
 */
export interface BrokerMessage extends MessageContent {
  /** Unique within the queue and stable across redeliveries: a JetStream stream sequence, a Redis entry id, a RabbitMQ message-id (or one Roost derived). */
  id: string
  /**
   * The attempt this delivery is, counted as Roost counts (1 for the first):
   * the broker's delivery count less the releases Roost made, which use no attempt.
   */
  attempt: number
  /** When the broker took it (epoch ms). */
  publishedAt: number
}

/** What a message published through a connector carries (ctx.publish, `roost publish`, a dead-letter copy). */
export interface OutgoingMessage {
  /** Becomes the broker's message id where it has one (JetStream Nats-Msg-Id deduplicates on it). */
  id: string
  body: Uint8Array
  bodyType: BodyType
  source: string
  type: string
  subject?: string
  contentType: string
  attributes: Record<string, string>
}

/** What the broker holds for one consumer, for the autoscaler: waiting messages plus those handed out and not yet settled. */
export interface Backlog {
  waiting: number
  inFlight: number
}

/** The broker as the connector found it when it connected. */
export interface Capabilities {
  /** `nats-server 2.9.10`, `redis 7.0.15`, `rabbitmq 3.10.8`, `roost embedded`. */
  server: string
  /** Features the connector uses that this server lacks, with what Roost does instead. Empty when all are there. */
  warnings: string[]
}

/** Whether a settlement took effect: `lease-lost` when the message had already been given to another consumer (fenced). */
export type SettleAck = 'settled' | 'lease-lost'

/**
 * One consumer on one queue. Messages it fetched are held (leased) until they
 * are settled, or until their lease runs out or the subscription's connection
 * is lost: then the broker delivers them again, to this or another consumer.
 */
export interface Subscription {
  /**
   * Up to `max` messages, waiting at most `waitMs` for the first; [] when none
   * came, when `signal` aborted, or when the subscription is closing. Rejects
   * with BrokerUnavailableError while the broker is away.
   */
  fetch (max: number, waitMs: number, signal?: AbortSignal): Promise<BrokerMessage[]>
  /** The handler succeeded: the broker forgets the message. */
  ack (message: BrokerMessage): Promise<SettleAck>
  /**
   * Several handlers succeeded: as ack for each, answered in order, in one
   * round trip where the broker takes many acknowledgements at once. Rejects
   * as ack does while the broker is away; a message whose acknowledgement did
   * not reach it is still held, and may be settled again.
   */
  ackMany (messages: readonly BrokerMessage[]): Promise<SettleAck[]>
  /** A counted failure with attempts left: delivered again after `delayMs`. */
  retry (message: BrokerMessage, delayMs: number): Promise<SettleAck>
  /** Not the message's fault (the platform stops, the gateway refused): delivered again after `delayMs`, using no attempt. */
  release (message: BrokerMessage, delayMs: number): Promise<SettleAck>
  /** The handler still runs: the lease runs `leaseMs` from now. */
  working (message: BrokerMessage): Promise<SettleAck>
  /**
   * Dead: never delivered again. Into the broker's own dead-letter mechanism
   * where it has one (RabbitMQ's dead-letter exchange); the consumer loop keeps
   * Roost's copy for `roost dlq` either way.
   */
  dead (message: BrokerMessage, reason: string): Promise<SettleAck>
  /** From the broker itself: JetStream pending + ack-pending, Redis group lag + pending, RabbitMQ ready + unacknowledged. */
  backlog (): Promise<Backlog>
  /** Stops fetching; messages fetched and not settled go back to the broker (now, or when their lease runs out). */
  close (): Promise<void>
}

/** The connection's health, as a condition on the trigger shows it. */
export type ConnectorState =
  | { state: 'connected', server: string }
  /** Lost or refused; the connector tries again after `retryInMs` (exponential backoff with jitter). */
  | { state: 'disconnected', reason: string, retryInMs: number }
  | { state: 'closed' }

/**
 * One connection to one broker (one URL), shared by the subscriptions and
 * publishes on it. It reconnects by itself with backoff; a subscription's
 * fetch rejects while it is away and works again once it is back.
 */
export interface Connector {
  readonly kind: ConnectorKind
  /** Connects and checks the server's version and features: rejects with BrokerUnavailableError when it cannot, BrokerUnsupportedError when a needed feature is missing. */
  connect (): Promise<Capabilities>
  /** Opens a consumer on the binding's queue, creating the stream, group or queue when the binding says so. */
  subscribe (binding: QueueBinding): Promise<Subscription>
  /** Publishes to the binding's queue (its stream's subject, its stream key, its queue); resolves once the broker has it. */
  publish (binding: QueueBinding, messages: readonly OutgoingMessage[]): Promise<void>
  /** Called on every change of the connection's state. */
  onState (listener: (state: ConnectorState) => void): void
  close (): Promise<void>
}
