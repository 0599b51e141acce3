import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LeasedRecord } from '../../src/events/index.js'
import { LEASE, NS, openFixture, QUEUE } from './event-store-fixture.js'

test('a record not yet run can be cancelled; it is then never delivered', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const { id } = store.publishOne(NS, QUEUE, { body: 1, kind: 'invocation' })
  assert.equal(store.cancel(id), 'cancelled')
  assert.equal(store.get(id)?.state, 'cancelled')
  assert.equal(store.get(id)?.finishedAt, clock.time)
  assert.deepEqual(store.lease(NS, QUEUE, LEASE), [])
  assert.equal(store.stats(NS, QUEUE).backlog, 0)
})

test('a running record is not cancelled, nor a finished one; an unknown id says so', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const running = store.publishOne(NS, QUEUE, { body: 1 })
  const [lease] = store.lease(NS, QUEUE, LEASE)
  assert.equal(store.cancel(running.id), 'running')
  store.ack(lease as LeasedRecord)
  assert.equal(store.cancel(running.id), 'finished')
  assert.equal(store.cancel('nope'), 'not-found')
})

test('a record waiting for its retry can be cancelled', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  store.fail(store.lease(NS, QUEUE, LEASE)[0] as LeasedRecord, 'error')
  assert.equal(store.cancel(id), 'cancelled')
})
