import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ValidationError } from '../../src/errors/index.js'
import { AGED_OUT_REASON, decodeBody } from '../../src/events/index.js'
import { LEASE, NS, openFixture, QUEUE } from './event-store-fixture.js'

test('a lease takes up to max due records in one batch, oldest due first, each with token 1 and attempt 1', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  store.publishOne(NS, QUEUE, { body: 'late', delayMs: 100 })
  store.publish(NS, QUEUE, [{ body: 'a' }, { body: 'b' }, { body: 'c' }])
  clock.advance(100)
  const leased = store.lease(NS, QUEUE, { ...LEASE, max: 3 })
  assert.deepEqual(leased.map((r) => decodeBody(r.body, r.bodyType)), ['a', 'b', 'c'])
  assert.deepEqual(leased.map((r) => [r.token, r.attempt, r.leaseExpiresAt]), [1, 1, 1].map((n) => [n, n, clock.time + LEASE.leaseMs]))
  assert.deepEqual(store.stats(NS, QUEUE), { namespace: NS, queue: QUEUE, waiting: 1, leased: 3, backlog: 4, dead: 0, lastCompletedAt: undefined })
  const rest = store.lease(NS, QUEUE, LEASE)
  assert.deepEqual(rest.map((r) => decodeBody(r.body, r.bodyType)), ['late'])
  assert.equal(store.lease(NS, QUEUE, LEASE).length, 0, 'a leased record is not leased again')
})

test('queues are apart: a lease of one never takes another queue\'s or namespace\'s records', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  store.declareQueue(NS, 'other')
  store.declareQueue('elsewhere', QUEUE)
  store.publishOne(NS, 'other', { body: 1 })
  store.publishOne('elsewhere', QUEUE, { body: 2 })
  assert.equal(store.lease(NS, QUEUE, LEASE).length, 0)
  assert.equal(store.lease(NS, 'other', LEASE).length, 1)
})

test('a lease that ran out comes back as a counted attempt, with backoff, and another consumer gets the next token', (t) => {
  const { store, clock, random } = openFixture(t)
  store.declareQueue(NS, QUEUE, { backoff: { initialMs: 1000, maxMs: 60_000 } })
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  store.lease(NS, QUEUE, { ...LEASE, leaseMs: 1000, consumer: 'hung' })
  random.value = 0.5
  clock.advance(999)
  assert.equal(store.recoverExpiredLeases(), 0)
  clock.advance(1)
  assert.equal(store.recoverExpiredLeases(), 1)
  const record = store.get(id)
  assert.equal(record?.state, 'ready')
  assert.equal(record?.attempts, 1)
  assert.equal(record?.notBefore, clock.time + 500) // half of the 1000 ms ceiling
  assert.deepEqual(record?.history.map((a) => [a.delivery, a.outcome, a.counted, a.consumer, a.endedAt - a.startedAt]), [[1, 'expired', true, 'hung', 1000]])
  clock.advance(500)
  const [again] = store.lease(NS, QUEUE, { ...LEASE, consumer: 'healthy' })
  assert.equal(again?.token, 2)
  assert.equal(again?.attempt, 2)
})

test('leasing takes expired leases back first, of every queue', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE, { backoff: { initialMs: 0, maxMs: 0 } })
  store.declareQueue(NS, 'other')
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  store.lease(NS, QUEUE, { ...LEASE, leaseMs: 10 })
  clock.advance(10)
  store.lease(NS, 'other', LEASE)
  assert.equal(store.get(id)?.state, 'ready')
  assert.equal(store.lease(NS, QUEUE, LEASE)[0]?.token, 2)
})

test('a lease that runs out on the last attempt makes the record dead', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE, { maxAttempts: 1 })
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  store.lease(NS, QUEUE, { ...LEASE, leaseMs: 10 })
  clock.advance(10)
  store.recoverExpiredLeases()
  assert.equal(store.get(id)?.state, 'dead')
  assert.equal(store.get(id)?.deadReason, 'lease expired on attempt 1 of 1: no attempts left')
  assert.equal(store.stats(NS, QUEUE).dead, 1)
})

test('a heartbeat extends the lease; after it the old expiry does not take the record back', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  const [lease] = store.lease(NS, QUEUE, { ...LEASE, leaseMs: 1000 })
  assert.ok(lease !== undefined)
  clock.advance(900)
  store.extendLease(lease, 1000)
  clock.advance(900)
  assert.equal(store.recoverExpiredLeases(), 0)
  assert.equal(store.get(id)?.leaseExpiresAt, clock.time + 100)
  assert.equal(store.nextLeaseExpiry(), clock.time + 100)
})

test('reopening the store takes back the leases that ran out while it was closed (a restart after kill -9)', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, QUEUE)
  const { id } = fixture.store.publishOne(NS, QUEUE, { body: 1 })
  const [lease] = fixture.store.lease(NS, QUEUE, { ...LEASE, leaseMs: 5000 })
  fixture.clock.advance(5000)
  const store = fixture.reopen()
  assert.equal(store.get(id)?.state, 'ready')
  assert.equal(store.get(id)?.history[0]?.outcome, 'expired')
  assert.throws(() => store.ack(lease as { id: string, token: number }), { code: 'ROOST_E_LEASE_LOST' })
})

test('a lease still running at reopen stays leased until it runs out', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, QUEUE)
  const { id } = fixture.store.publishOne(NS, QUEUE, { body: 1 })
  fixture.store.lease(NS, QUEUE, { ...LEASE, leaseMs: 5000 })
  fixture.clock.advance(4999)
  const store = fixture.reopen()
  assert.equal(store.get(id)?.state, 'leased')
  fixture.clock.advance(1)
  assert.equal(store.recoverExpiredLeases(), 1)
  assert.equal(store.get(id)?.state, 'ready')
  assert.equal(store.get(id)?.attempts, 1)
})

test('a record past its maximum age dies instead of being delivered (Lambda\'s maximum event age)', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE, { maxAgeMs: 60_000 })
  const { id } = store.publishOne(NS, QUEUE, { body: 1, kind: 'invocation' })
  const young = store.publishOne(NS, QUEUE, { body: 2, maxAgeMs: 120_000 })
  clock.advance(60_000)
  const leased = store.lease(NS, QUEUE, LEASE)
  assert.deepEqual(leased.map((r) => r.id), [young.id])
  assert.equal(store.get(id)?.state, 'dead')
  assert.equal(store.get(id)?.deadReason, AGED_OUT_REASON)
  assert.equal(store.get(id)?.history.length, 0, 'it was never delivered')
})

test('a batch size or lease length out of range is refused', (t) => {
  const { store } = openFixture(t)
  assert.throws(() => store.lease(NS, QUEUE, { ...LEASE, max: 1001 }), (err: unknown) => err instanceof ValidationError && err.field === 'batch')
  assert.throws(() => store.lease(NS, QUEUE, { ...LEASE, leaseMs: 0 }), (err: unknown) => err instanceof ValidationError && err.field === 'leaseMs')
  assert.deepEqual(store.lease(NS, QUEUE, { ...LEASE, max: 0 }), [])
})
