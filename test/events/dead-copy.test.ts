// Roost's dead record of a message a broker dead-lettered: stored dead from
// the start, with its last attempt, listed, counted and purged as any dead
// record; keeping it twice stores it once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { DeadCopy } from '../../src/events/index.js'
import { openFixture } from './event-store-fixture.js'

function copy (over: Partial<DeadCopy> = {}): DeadCopy {
  return {
    id: 'shop/orders/1700000000000-0', body: Buffer.from('{"sku":"A-1"}'), bodyType: 'json', source: '/brokers/redis/orders', type: 'dev.roost.message',
    subject: undefined, contentType: 'application/json', attributes: { deadid: '1700000000000-0' }, attempts: 3, maxAttempts: 3,
    reason: 'error: boom on attempt 3 of 3: no attempts left', outcome: 'error', error: 'boom', status: 500, consumer: 'roost-1-abc',
    createdAt: 1_700_000_000_000, startedAt: 1_700_000_001_000, ...over
  }
}

test('a kept dead copy is a dead record of its queue, undeclared as it is, with its last attempt', (t) => {
  const { store, clock } = openFixture(t)
  assert.equal(store.keepDead('shop', 'orders', copy()), true)
  assert.equal(store.keepDead('shop', 'orders', copy()), false, 'kept once')
  const [dead] = store.listDead('shop', 'orders')
  assert.deepEqual({ id: dead?.id, state: dead?.state, attempts: dead?.attempts, maxAttempts: dead?.maxAttempts, reason: dead?.deadReason, body: Buffer.from(dead?.body ?? []).toString(), attributes: dead?.attributes }, {
    id: 'shop/orders/1700000000000-0', state: 'dead', attempts: 3, maxAttempts: 3, reason: 'error: boom on attempt 3 of 3: no attempts left', body: '{"sku":"A-1"}', attributes: { deadid: '1700000000000-0' }
  })
  assert.deepEqual(dead?.history.map((a) => ({ counted: a.counted, outcome: a.outcome, error: a.error, status: a.status, consumer: a.consumer, endedAt: a.endedAt })), [
    { counted: true, outcome: 'error', error: 'boom', status: 500, consumer: 'roost-1-abc', endedAt: clock.now() }
  ])
  const stats = store.stats('shop', 'orders')
  assert.deepEqual([stats.dead, stats.backlog], [1, 0], 'dead, and no backlog: it is not the embedded queue\'s work')
  assert.equal(store.purgeDead('shop', 'orders', { ids: ['shop/orders/1700000000000-0'] }), 1)
  assert.equal(store.stats('shop', 'orders').dead, 0)
})
