// What the dispatcher and the cron scheduler work from, in plain data: the
// queues functions consume (with the numbers their triggers resolve to), the
// cron triggers, and one delivery to the gateway with its answer.
import type { BrokerTriggerLimits, CronCatchUp, CronOverlap } from '../api/index.js'
import type { QueuePolicy } from '../events/index.js'
import type { ChannelAnswer, ChannelRequest } from '../gateway/index.js'

/**
 * The event a delivery carries (docs/event-delivery.md): the runtime calls
 * `queue` or `scheduled`; an `invocation` replays a stored async call to `fetch`.
 */
export type DeliveryEvent = 'queue' | 'scheduled' | 'invocation'

/** One queue with the function that consumes it. */
export interface QueueConsumer {
  namespace: string
  /** A queue a function declared, the internal queue of a cron trigger (`cron.<function>.<index>`), or a function's async calls (`async.<function>`). */
  queue: string
  /** The consuming function's name. */
  function: string
  event: DeliveryEvent
  /** Most records per delivery. */
  batch: number
  /** How long fewer than `batch` due records wait for more before they go. */
  maxBatchWaitMs: number
  /** How long a delivered record is leased; renewed while its delivery runs. */
  leaseMs: number
  /** Messages one ready instance may hold at once (scale.target on the queue metric, else its concurrency). */
  perInstance: number
  /** How long the dispatcher waits for the gateway's answer (the function's timeout + a margin). */
  deliveryTimeoutMs: number
  /** Where a copy of a record that dies goes, when the trigger says so. */
  deadLetterQueue?: string
}

/** A queue to declare in the EventStore, with its policy. */
export interface DeclaredQueue {
  namespace: string
  queue: string
  policy: Partial<QueuePolicy>
}

/** One cron trigger as the scheduler runs it. */
export interface CronPlan {
  namespace: string
  function: string
  /** `<function>.<index>`: the trigger's identity in firing ids and marks. */
  trigger: string
  /** The internal queue its firings wait in. */
  queue: string
  schedule: string
  timezone: string
  overlap: CronOverlap
  catchUp: CronCatchUp
  catchUpWindowMs: number
  /** Catch-up starts here when the trigger never fired: when its function was last applied (epoch ms). */
  since: number
}

/** A queue trigger fed by a broker: the broker consumer's (src/dispatch/broker-consumer.ts), not the dispatcher's. */
export interface BrokerConsumerPlan {
  namespace: string
  /** Roost's name of the queue (the trigger's `name`): its dead records, metrics, conditions and `roost dlq` use it. */
  queue: string
  function: string
  batch: number
  leaseMs: number
  perInstance: number
  /** The most messages its instances may hold at once (perInstance × scale.max): room a broker that pushes ahead (RabbitMQ's prefetch) must give. */
  maxInFlight: number
  deliveryTimeoutMs: number
  maxAttempts: number
  backoff: { initialMs: number, maxMs: number }
  /** Where it reads, as written; credentials are read from the Secret when it starts. */
  broker: BrokerTriggerLimits
}

/** Everything the functions of the store ask of the event side. */
export interface TriggerPlan {
  queues: DeclaredQueue[]
  consumers: QueueConsumer[]
  crons: CronPlan[]
  brokers: BrokerConsumerPlan[]
}

/** One delivery, and what became of it: the gateway's delivery channel defines both (src/gateway/delivery-channel.ts). */
export type DeliveryRequest = ChannelRequest
export type DeliveryAnswer = ChannelAnswer

export type DeliveryFunction = (request: DeliveryRequest, signal: AbortSignal) => Promise<DeliveryAnswer>

/** `namespace/queue`: the key of a consumer. */
export function queueKey (namespace: string, queue: string): string {
  return `${namespace}/${queue}`
}

/** `namespace/name`: the key of a function. */
export function functionKey (namespace: string, name: string): string {
  return `${namespace}/${name}`
}
