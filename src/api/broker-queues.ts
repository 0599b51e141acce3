// What the API sees of the queues that brokers hold (the broker triggers of
// src/dispatch): each one's condition, and publishing to it. Declared here,
// implemented by the dispatch part, so the API does not depend on it.
import type { NewRecord, PublishResult } from '../events/index.js'

/** How a trigger's broker is doing, as its condition shows it. */
export type BrokerTriggerState = 'Connecting' | 'Connected' | 'Disconnected' | 'Failed'

export interface BrokerTriggerStatus {
  namespace: string
  function: string
  queue: string
  connector: 'nats' | 'redis' | 'rabbitmq' | 'embedded'
  /** The trigger's URL as written: it never holds credentials. */
  url: string
  state: BrokerTriggerState
  /** Why, in a word (Connected, BrokerUnavailable, BrokerMissing, SecretMissing…), and in a sentence. */
  reason: string
  message: string
  /** The server as the connector named it, once connected. */
  server: string | undefined
  /** Epoch ms of the last change of state. */
  since: number
  /** The broker's own numbers at the last sample; undefined before the first. */
  backlog: { waiting: number, inFlight: number } | undefined
}

export interface BrokerQueues {
  /** The broker trigger of a queue; undefined when the embedded queue holds it. */
  status (namespace: string, queue: string): BrokerTriggerStatus | undefined
  statuses (): BrokerTriggerStatus[]
  /** Publishes to the broker; rejects with BrokerUnavailableError (503, Retry-After) while it is away. */
  publishRecords (namespace: string, queue: string, records: readonly NewRecord[]): Promise<PublishResult[]>
}
