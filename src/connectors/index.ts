// The connectors part: Roost's queues on the embedded EventStore and on real
// brokers (NATS JetStream, Redis Streams, RabbitMQ) behind one interface.
// docs/connectors.md is the contract; test/connectors/contract.ts checks it.
export type * from './connector.js'
