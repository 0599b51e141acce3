// How the RabbitMQ connector lays a message out in AMQP and reads it back:
// properties, the attempt from x-roost-attempt and x-delivery-count, derived
// ids, and the copy a delayed retry or a release publishes.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import type { Message, MessageFields, MessageProperties } from 'amqplib'
import { ValidationError } from '../../src/errors/index.js'
import { brokerId, copyOptions, deliveryAttempt, deliveryMessage, publishOptions } from '../../src/connectors/rabbit-message.js'

function delivery (properties: Partial<MessageProperties>, content = Buffer.from('{"a":1}'), redelivered = false): Message {
  return { content, fields: { redelivered } as MessageFields, properties: properties as MessageProperties }
}

test('a published message is persistent, mandatory, with its id as message-id and its attributes as headers', () => {
  const options = publishOptions({
    id: 'o-1', body: new Uint8Array(), bodyType: 'json', source: '/shop', type: 'order', contentType: 'application/json', attributes: { tenant: 'acme' }
  }, 1_700_000_000_123)
  assert.equal(options.messageId, 'o-1')
  assert.equal(options.persistent, true)
  assert.equal(options.mandatory, true)
  assert.equal(options.timestamp, 1_700_000_000, 'AMQP timestamps are seconds')
  assert.equal(options.contentType, 'application/json')
  assert.equal(options.headers?.['ce-id'], 'o-1')
  assert.equal(options.headers?.['ce-tenant'], 'acme')
})

test('attributes too large for an AMQP header table are a validation error before anything is sent', () => {
  const message = { id: 'big', body: new Uint8Array(), bodyType: 'json' as const, source: '/s', type: 't', contentType: 'application/json', attributes: { note: 'x'.repeat(70_000) } }
  assert.throws(() => publishOptions(message), (err: unknown) => err instanceof ValidationError && /AMQP headers/.test(err.message))
  assert.doesNotThrow(() => publishOptions({ ...message, attributes: { note: 'x'.repeat(50_000) } }))
})

test('the attempt is the copy\'s x-roost-attempt plus the returns the quorum queue counted', () => {
  assert.equal(deliveryAttempt(delivery({ headers: {} })), 1)
  assert.equal(deliveryAttempt(delivery({ headers: { 'x-delivery-count': 2 } })), 3)
  assert.equal(deliveryAttempt(delivery({ headers: { 'x-roost-attempt': '4' } })), 4)
  assert.equal(deliveryAttempt(delivery({ headers: { 'x-roost-attempt': '4', 'x-delivery-count': 1 } })), 5)
  // A classic queue has no count, only the redelivered flag.
  assert.equal(deliveryAttempt(delivery({ headers: undefined }, undefined, true)), 2)
  // Garbage in x-roost-attempt counts as none.
  assert.equal(deliveryAttempt(delivery({ headers: { 'x-roost-attempt': 'lots', 'x-delivery-count': 'x' } })), 1)
})

test('a message without message-id gets an id from its bytes and properties, the same each time it comes', () => {
  const one = delivery({ timestamp: 1 }, Buffer.from('hello'))
  assert.equal(brokerId(one), brokerId(delivery({ timestamp: 1, headers: { 'x-delivery-count': 3 } }, Buffer.from('hello'))))
  assert.notEqual(brokerId(one), brokerId(delivery({ timestamp: 2 }, Buffer.from('hello'))))
  assert.equal(brokerId(delivery({ messageId: 'given' })), 'given')
  // The id a message already had before an upgrade stays its id: sha256 of the properties' JSON, then the bytes.
  const expected = createHash('sha256').update(JSON.stringify(['1', 'c-1', 'app'])).update(Buffer.from('hello')).digest('hex').slice(0, 32)
  assert.equal(brokerId(delivery({ timestamp: 1, correlationId: 'c-1', appId: 'app' }, Buffer.from('hello'))), `amqp-${expected}`)
  // Larger than the scratch buffer the usual small message is hashed in, and with no properties at all.
  const large = Buffer.alloc(10_000, 'x')
  const expectedLarge = createHash('sha256').update(JSON.stringify(['', '', ''])).update(large).digest('hex').slice(0, 32)
  assert.equal(brokerId(delivery({}, large)), `amqp-${expectedLarge}`)
  assert.equal(brokerId(delivery({}, Buffer.from('hello'))), brokerId(delivery({}, Buffer.from('hello'))))
})

test('a delivery without Roost\'s headers gets derived attributes and a publishedAt from its timestamp', () => {
  const message = deliveryMessage('orders', delivery({ contentType: 'text/plain', timestamp: 1_700_000_000 }, Buffer.from('hi')), 5)
  assert.equal(message.type, 'dev.roost.message')
  assert.equal(message.source, '/brokers/rabbitmq/orders')
  assert.equal(message.bodyType, 'text')
  assert.equal(message.contentType, 'text/plain')
  assert.equal(message.publishedAt, 1_700_000_000_000)
  // Milliseconds, as some clients write them, are taken as milliseconds; no timestamp is the time of delivery.
  assert.equal(deliveryMessage('orders', delivery({ timestamp: 1_700_000_000_123 })).publishedAt, 1_700_000_000_123)
  assert.equal(deliveryMessage('orders', delivery({}), 42).publishedAt, 42)
})

test('a copy keeps the publisher\'s properties and headers, starts at its attempt, and drops what the broker added', () => {
  const original = delivery({
    messageId: undefined,
    contentType: 'application/json',
    correlationId: 'c-1',
    timestamp: 1_700_000_000,
    userId: 'guest',
    expiration: '1000',
    headers: {
      'ce-id': 'x', 'x-delivery-count': 3, 'x-death': [], 'x-first-death-queue': 'q', 'x-last-death-reason': 'expired', 'x-roost-attempt': '2', app: 'v'
    }
  })
  const copy = copyOptions(original, 'stable-id', 3)
  assert.equal(copy.messageId, 'stable-id')
  assert.equal(copy.persistent, true)
  assert.equal(copy.mandatory, true)
  assert.equal(copy.correlationId, 'c-1')
  assert.equal(copy.timestamp, 1_700_000_000)
  assert.equal(copy.userId, undefined)
  assert.equal(copy.expiration, undefined)
  assert.deepEqual(copy.headers, { 'ce-id': 'x', 'x-roost-attempt': '3', app: 'v' })
})
