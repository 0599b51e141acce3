import assert from 'node:assert/strict'
import { test } from 'node:test'
import { invocationDelivery, readStoredRequest, storedRequestOf } from '../../src/invocations/index.js'

// The invocation record's body (the stored request) and the delivery the
// dispatcher makes of it (docs/event-delivery.md).

const stored = storedRequestOf({
  namespace: 'shop',
  function: 'cart',
  method: 'PUT',
  path: '/items/7?force=1',
  headers: [['Content-Type', 'text/plain'], ['x-tag', 'a']],
  body: Buffer.from('seven'),
  callbackUrl: undefined,
  caller: 'key:k1',
  requestId: 'req-1',
  waitMs: 5000
})

test('a stored request reads back from its JSON; anything else is not one', () => {
  assert.deepEqual(readStoredRequest(Buffer.from(JSON.stringify(stored))), stored)
  assert.equal(stored.body, Buffer.from('seven').toString('base64'))
  assert.equal(stored.callbackUrl, null)
  for (const text of ['{', '[]', '{"v":2}', '{"v":1,"function":"x"}', '"text"']) assert.equal(readStoredRequest(Buffer.from(text)), undefined, text)
})

const record = {
  id: 'inv-1',
  namespace: 'shop',
  source: '/namespaces/shop/functions/cart',
  type: 'dev.roost.invocation',
  subject: '/items/7',
  contentType: 'application/json',
  attributes: { hops: '1' },
  createdAt: Date.UTC(2026, 0, 2, 3, 4, 5)
}

test('the delivery replays the request to /fn/<name>.<namespace><path> with the event headers, the record as ce-* headers, the call id and the caller', () => {
  const delivery = invocationDelivery(record, stored, 'ab'.repeat(32))
  assert.equal(delivery.method, 'PUT')
  assert.equal(delivery.path, '/fn/cart.shop/items/7?force=1')
  assert.equal(delivery.body.toString(), 'seven')
  assert.deepEqual(delivery.headers, [
    ['Content-Type', 'text/plain'], ['x-tag', 'a'],
    ['ce-specversion', '1.0'], ['ce-id', 'inv-1'], ['ce-source', '/namespaces/shop/functions/cart'], ['ce-type', 'dev.roost.invocation'],
    ['ce-subject', '/items/7'], ['ce-time', '2026-01-02T03:04:05.000Z'], ['ce-hops', '1'],
    ['x-roost-event', 'invocation'], ['x-roost-event-token', 'ab'.repeat(32)], ['x-roost-call-id', 'inv-1'], ['x-roost-caller', 'key:k1']
  ])
})

test('a call that was itself a CloudEvent keeps its own ce-* headers and gets none of the record', () => {
  const event = { ...stored, headers: [['ce-specversion', '1.0'], ['ce-id', 'order-9'], ['ce-source', '/shop'], ['ce-type', 'order.placed']] as Array<[string, string]> }
  const ce = invocationDelivery(record, event, 'ab'.repeat(32)).headers.filter(([name]) => name.startsWith('ce-'))
  assert.deepEqual(ce, event.headers)
})
