// The connectors part: Roost's queues on the embedded EventStore and on real
// brokers (NATS JetStream, Redis Streams, RabbitMQ) behind one interface.
// docs/connectors.md is the contract; test/connectors/contract.ts checks it.
export type * from './connector.js'
export { createConnector } from './create-connector.js'
export type { ConnectorOptions } from './create-connector.js'
export { EmbeddedConnector, EMBEDDED_SERVER } from './embedded-connector.js'
export type { EmbeddedConnectorOptions } from './embedded-connector.js'
export { EMBEDDED_POLL_MS } from './embedded-subscription.js'
export { RabbitConnector, DEFAULT_PREFETCH } from './rabbit-connector.js'
export type { RabbitConnectorOptions } from './rabbit-connector.js'
export {
  MESSAGE_HEADERS, FOREIGN_MESSAGE_TYPE, messageHeaders, incomingAttributes, brokerSource, detectBodyType, attemptFromHeader
} from './message-attributes.js'
export type { HeaderValues, IncomingAttributes, MessageOrigin } from './message-attributes.js'
