import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LeasedRecord } from '../../src/events/index.js'
import { LEASE, NS, openFixture, QUEUE } from './event-store-fixture.js'

test('finished records are deleted once the retention after they finished has passed; dead and waiting ones stay', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE, { retentionMs: 10_000, maxAttempts: 1 })
  const [done, dead, cancelled, waiting] = store.publish(NS, QUEUE, [{ body: 1 }, { body: 2 }, { body: 3 }, { body: 4, delayMs: 60_000 }]).map((r) => r.id) as [string, string, string, string]
  const [a, b] = store.lease(NS, QUEUE, { ...LEASE, max: 2 }) as [LeasedRecord, LeasedRecord]
  store.ack(a)
  store.fail(b, 'error')
  clock.advance(5000)
  store.cancel(cancelled)
  clock.advance(4999)
  assert.equal(store.prune(), 0)
  clock.advance(1)
  assert.equal(store.prune(), 1)
  assert.equal(store.get(done), undefined)
  clock.advance(5000)
  assert.equal(store.prune(), 1)
  assert.equal(store.get(cancelled), undefined)
  assert.equal(store.get(dead)?.state, 'dead')
  assert.equal(store.get(waiting)?.state, 'ready')
})
