// A message as NATS headers and body, both ways: what Roost publishes comes
// back as it was sent; a delivery without Roost's headers gets derived attributes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { headers } from '@nats-io/transport-node'
import { ValidationError } from '../../src/errors/index.js'
import type { OutgoingMessage } from '../../src/connectors/index.js'
import { deliveredMessage, outgoingHeaders } from '../../src/connectors/nats-message.js'
import type { AckSubject } from '../../src/connectors/nats-ack-subject.js'

const DELIVERY: AckSubject = { stream: 'ORDERS', consumer: 'fulfil', deliveryCount: 2, streamSequence: 42, consumerSequence: 7, storedAt: 1_700_000_000_000, pending: 0 }

function outgoing (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: 'order-1', body: new TextEncoder().encode('{"n":1}'), bodyType: 'json', source: '/shop', type: 'com.example.order',
    subject: 'order 1', contentType: 'application/json', attributes: { tenant: 'a b%c' }, ...overrides
  }
}

test('what Roost publishes is delivered with the same attributes, on the attempt given', () => {
  const sent = outgoing()
  const message = deliveredMessage(DELIVERY, sent.body, outgoingHeaders(sent), 1)
  assert.equal(message.id, 'order-1')
  assert.equal(message.source, '/shop')
  assert.equal(message.type, 'com.example.order')
  assert.equal(message.subject, 'order 1')
  assert.equal(message.contentType, 'application/json')
  assert.equal(message.bodyType, 'json')
  assert.deepEqual(message.attributes, { tenant: 'a b%c' })
  assert.equal(message.attempt, 1)
  assert.equal(message.publishedAt, DELIVERY.storedAt)
})

test('a delivery without headers: the stream sequence as id, the stream as source, the body typed by its bytes', () => {
  const message = deliveredMessage(DELIVERY, new Uint8Array([0xff, 0x00]), undefined, 2)
  assert.equal(message.id, '42')
  assert.equal(message.source, '/brokers/nats/ORDERS')
  assert.equal(message.type, 'dev.roost.message')
  assert.equal(message.bodyType, 'bytes')
  assert.equal(message.attempt, 2)
})

test('a header sent twice counts once, the first; names are read in any case', () => {
  const h = headers()
  h.append('CE-ID', 'first')
  h.append('CE-ID', 'second')
  const message = deliveredMessage(DELIVERY, new TextEncoder().encode('x'), h, 1)
  assert.equal(message.id, 'first')
  assert.equal(message.bodyType, 'text')
})

test('attributes no header can carry fail before anything is sent', () => {
  assert.throws(() => outgoingHeaders(outgoing({ attributes: { 'Not-Valid': 'x' } })), ValidationError)
})
