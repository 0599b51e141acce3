// The one place that picks a connector by kind: each broker's connector is a
// file of its own, and this switch is all that names them.
import { BrokerUnsupportedError } from '../errors/index.js'
import type { EventStore } from '../events/index.js'
import type { Connector, ConnectorKind } from './connector.js'
import { EmbeddedConnector } from './embedded-connector.js'
import { NatsConnector } from './nats-connector.js'
import { RabbitConnector } from './rabbit-connector.js'
import { RedisConnector } from './redis-connector.js'

export interface ConnectorOptions {
  kind: ConnectorKind
  /** The broker's URL; for the embedded queue without `events`, the path of an events.db (or its folder) to open. */
  url: string
  /** The embedded queue's store in this process; the connector then opens nothing and closes nothing. */
  events?: EventStore
  /** How this process appears on the broker (a connection name, a consumer's name); the process id by default. */
  clientName?: string
}

export function createConnector (options: ConnectorOptions): Connector {
  switch (options.kind) {
    case 'embedded':
      return new EmbeddedConnector({ events: options.events, path: options.url, clientName: options.clientName })
    case 'nats':
      return new NatsConnector({ url: options.url, clientName: options.clientName })
    case 'redis':
      return new RedisConnector({ url: options.url, clientName: options.clientName })
    case 'rabbitmq':
      return new RabbitConnector({ url: options.url, clientName: options.clientName })
    default:
      throw new BrokerUnsupportedError(`no connector for ${JSON.stringify(options.kind)} is built into this Roost`, {
        field: 'connector',
        hint: 'a queue trigger\'s connector is embedded, nats, redis or rabbitmq'
      })
  }
}
