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

test('the delivery replays the request to /fn/<name>.<namespace><path> with the event headers, the call id and the caller', () => {
  const delivery = invocationDelivery({ id: 'inv-1', namespace: 'shop' }, stored, 'ab'.repeat(32))
  assert.equal(delivery.method, 'PUT')
  assert.equal(delivery.path, '/fn/cart.shop/items/7?force=1')
  assert.equal(delivery.body.toString(), 'seven')
  assert.deepEqual(delivery.headers, [
    ['Content-Type', 'text/plain'], ['x-tag', 'a'],
    ['x-roost-event', 'invocation'], ['x-roost-event-token', 'ab'.repeat(32)], ['x-roost-call-id', 'inv-1'], ['x-roost-caller', 'key:k1']
  ])
})
