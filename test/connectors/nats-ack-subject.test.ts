// What a JetStream reply subject says about a delivery, in the server's two layouts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseAckSubject } from '../../src/connectors/nats-ack-subject.js'

test('the layout before 2.10: stream, consumer, delivery count, sequences, stored time and pending', () => {
  assert.deepEqual(parseAckSubject('$JS.ACK.ORDERS.fulfil.3.42.17.1796219519064492717.5'), {
    stream: 'ORDERS', consumer: 'fulfil', deliveryCount: 3, streamSequence: 42, consumerSequence: 17, storedAt: 1796219519064, pending: 5
  })
})

test('the layout of 2.10 and later, with a domain and an account hash, and a token at the end or not', () => {
  const expected = { stream: 'ORDERS', consumer: 'fulfil', deliveryCount: 1, streamSequence: 9, consumerSequence: 9, storedAt: 1700000000000, pending: 0 }
  assert.deepEqual(parseAckSubject('$JS.ACK._.ACCHASH.ORDERS.fulfil.1.9.9.1700000000000000000.0.RANDOM'), expected)
  assert.deepEqual(parseAckSubject('$JS.ACK.hub.ACCHASH.ORDERS.fulfil.1.9.9.1700000000000000000.0'), expected)
})

test('anything else is no ack subject', () => {
  for (const reply of [undefined, '', '_INBOX.abc', '$JS.ACK.ORDERS.fulfil.1.2.3', '$JS.ACK.ORDERS.fulfil.x.2.3.4.5', '$JS.NAK.a.b.1.2.3.4.5', '$JS.ACK.S.C.1.2.3.-4.5']) {
    assert.equal(parseAckSubject(reply), undefined, String(reply))
  }
})
