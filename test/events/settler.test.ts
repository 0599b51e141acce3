import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LeaseLostError } from '../../src/errors/index.js'
import type { LeasedRecord } from '../../src/events/index.js'
import { LEASE, NS, openFixture, QUEUE } from './event-store-fixture.js'
import type { Fixture } from './event-store-fixture.js'

function leaseOne (fixture: Fixture, consumer = 'instance-1'): LeasedRecord {
  const [record] = fixture.store.lease(NS, QUEUE, { ...LEASE, max: 1, consumer })
  assert.ok(record !== undefined, 'a record was due')
  return record
}

test('ack: the record succeeds, its attempt is counted and kept, the queue\'s last completion moves', (t) => {
  const fixture = openFixture(t)
  const { store, clock } = fixture
  store.declareQueue(NS, QUEUE, { retentionMs: 1000 })
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  const lease = leaseOne(fixture)
  clock.advance(250)
  assert.equal(store.ack(lease, { initMs: 40 }), 'succeeded')
  const record = store.get(id)
  assert.equal(record?.state, 'succeeded')
  assert.equal(record?.attempts, 1)
  assert.equal(record?.finishedAt, clock.time)
  assert.deepEqual(record?.history, [{
    delivery: 1, counted: true, outcome: 'succeeded', consumer: 'instance-1', startedAt: clock.time - 250, endedAt: clock.time,
    initMs: 40, status: undefined, error: undefined
  }])
  assert.deepEqual(store.stats(NS, QUEUE), { namespace: NS, queue: QUEUE, waiting: 0, leased: 0, backlog: 0, dead: 0, lastCompletedAt: clock.time })
})

test('fencing: a consumer whose lease ran out and was taken back cannot settle; the new holder can', (t) => {
  const fixture = openFixture(t)
  const { store, clock } = fixture
  store.declareQueue(NS, QUEUE, { backoff: { initialMs: 0, maxMs: 0 } })
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  const stale = leaseOne(fixture, 'zombie')
  clock.advance(LEASE.leaseMs)
  const fresh = leaseOne(fixture, 'successor')
  assert.equal(fresh.token, stale.token + 1)
  assert.throws(() => store.ack(stale), (err: unknown) => err instanceof LeaseLostError && err.status === 409)
  assert.throws(() => store.fail(stale, 'error'), LeaseLostError)
  assert.throws(() => store.release(stale, 'drained'), LeaseLostError)
  assert.throws(() => store.extendLease(stale, 1000), LeaseLostError)
  assert.equal(store.get(id)?.state, 'leased')
  assert.equal(store.ack(fresh), 'succeeded')
})

test('a record settles once: a second ack with the same token is refused', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, QUEUE)
  fixture.store.publishOne(NS, QUEUE, { body: 1 })
  const lease = leaseOne(fixture)
  fixture.store.ack(lease)
  assert.throws(() => fixture.store.ack(lease), LeaseLostError)
})

test('a settlement after the lease ran out but before anyone took the record back is accepted', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, QUEUE)
  fixture.store.publishOne(NS, QUEUE, { body: 1 })
  const lease = leaseOne(fixture)
  fixture.clock.advance(LEASE.leaseMs + 1)
  assert.equal(fixture.store.ack(lease), 'succeeded')
})

test('settle: a batch\'s outcomes in one call; a stale one is refused alone', (t) => {
  const fixture = openFixture(t)
  const { store } = fixture
  store.declareQueue(NS, QUEUE)
  store.publish(NS, QUEUE, [{ body: 1 }, { body: 2 }, { body: 3 }])
  const [a, b, c] = store.lease(NS, QUEUE, LEASE) as [LeasedRecord, LeasedRecord, LeasedRecord]
  const results = store.settle([
    { id: a.id, token: a.token, outcome: 'succeeded' },
    { id: b.id, token: b.token + 1, outcome: 'succeeded' },
    { id: c.id, token: c.token, outcome: 'failed', cause: 'error', error: 'bad' }
  ])
  assert.deepEqual(results, [
    { id: a.id, settled: true, state: 'succeeded' },
    { id: b.id, settled: false, reason: 'lease-lost' },
    { id: c.id, settled: true, state: 'ready' }
  ])
  assert.equal(store.get(b.id)?.state, 'leased')
})

test('failures retry with growing backoff until maxAttempts, then the record is dead with every attempt kept', (t) => {
  const fixture = openFixture(t)
  const { store, clock, random } = fixture
  store.declareQueue(NS, QUEUE, { maxAttempts: 4, backoff: { initialMs: 1000, maxMs: 3000 } })
  const { id } = store.publishOne(NS, QUEUE, { body: 'poison' })
  random.value = 0.999
  const delays: number[] = []
  for (let attempt = 1; attempt <= 3; attempt++) {
    const lease = leaseOne(fixture)
    assert.equal(lease.attempt, attempt)
    assert.equal(store.fail(lease, 'error', { error: `boom ${attempt}`, status: 500 }), 'ready')
    const notBefore = store.get(id)?.notBefore as number
    delays.push(notBefore - clock.time)
    clock.time = notBefore
  }
  assert.deepEqual(delays, [999, 1998, 2997]) // ceilings 1000, 2000, then capped at 3000
  const last = leaseOne(fixture)
  assert.equal(store.fail(last, 'timeout', { error: 'no answer in 30s' }), 'dead')
  const record = store.get(id)
  assert.equal(record?.state, 'dead')
  assert.equal(record?.attempts, 4)
  assert.equal(record?.deadReason, 'timeout: no answer in 30s on attempt 4 of 4: no attempts left')
  assert.deepEqual(record?.history.map((a) => [a.delivery, a.outcome, a.counted, a.status, a.error]), [
    [1, 'error', true, 500, 'boom 1'],
    [2, 'error', true, 500, 'boom 2'],
    [3, 'error', true, 500, 'boom 3'],
    [4, 'timeout', true, undefined, 'no answer in 30s']
  ])
  assert.deepEqual(store.stats(NS, QUEUE), { namespace: NS, queue: QUEUE, waiting: 0, leased: 0, backlog: 0, dead: 1, lastCompletedAt: clock.time })
})

test('"retry after N ms" from the handler sets the delay instead of the backoff, and counts', (t) => {
  const fixture = openFixture(t)
  const { store, clock } = fixture
  store.declareQueue(NS, QUEUE)
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  assert.equal(store.fail(leaseOne(fixture), 'retry', { retryAfterMs: 42_000 }), 'ready')
  assert.equal(store.get(id)?.notBefore, clock.time + 42_000)
  assert.equal(store.get(id)?.attempts, 1)
})

test('"do not retry" sends the record straight to dead, whatever attempts are left', (t) => {
  const fixture = openFixture(t)
  const { store } = fixture
  store.declareQueue(NS, QUEUE, { maxAttempts: 10 })
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  assert.equal(store.deadLetter(leaseOne(fixture), 'order 7 does not exist', { status: 404 }), 'dead')
  assert.equal(store.get(id)?.deadReason, 'order 7 does not exist')
  assert.deepEqual(store.get(id)?.history.map((a) => [a.outcome, a.counted, a.status]), [['dead', true, 404]])
})

test('a release (drain, platform stop) never uses an attempt: a record drained many times still has all of them', (t) => {
  const fixture = openFixture(t)
  const { store, clock } = fixture
  store.declareQueue(NS, QUEUE, { maxAttempts: 2 })
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  for (let i = 0; i < 5; i++) assert.equal(store.release(leaseOne(fixture), i % 2 === 0 ? 'drained' : 'stopped'), 'ready')
  const record = store.get(id)
  assert.equal(record?.attempts, 0)
  assert.equal(record?.notBefore, clock.time, 'released records are due at once')
  assert.equal(record?.deliveries, 5)
  assert.deepEqual(record?.history.map((a) => [a.outcome, a.counted]), [
    ['drained', false], ['stopped', false], ['drained', false], ['stopped', false], ['drained', false]
  ])
  const lease = leaseOne(fixture)
  assert.equal(lease.attempt, 1)
  assert.equal(lease.token, 6)
})

test('a release may give a delay (an instance handing its records back while the function restarts)', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, QUEUE)
  const { id } = fixture.store.publishOne(NS, QUEUE, { body: 1 })
  fixture.store.release(leaseOne(fixture), 'stopped', 2000)
  assert.equal(fixture.store.get(id)?.notBefore, fixture.clock.time + 2000)
})

test('a crashed instance counts as an attempt, like a throw', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, QUEUE, { maxAttempts: 1 })
  const { id } = fixture.store.publishOne(NS, QUEUE, { body: 1 })
  assert.equal(fixture.store.fail(leaseOne(fixture), 'crashed', { error: 'instance exited with signal SIGKILL' }), 'dead')
  assert.equal(fixture.store.get(id)?.deadReason, 'crashed: instance exited with signal SIGKILL on attempt 1 of 1: no attempts left')
})

test('the stored response is bounded by maxResponseBytes and marked truncated', (t) => {
  const fixture = openFixture(t)
  const { store } = fixture
  store.declareQueue(NS, QUEUE, { maxResponseBytes: 5 })
  const small = store.publishOne(NS, QUEUE, { body: 1 })
  const big = store.publishOne(NS, QUEUE, { body: 2 })
  const [a, b] = store.lease(NS, QUEUE, LEASE) as [LeasedRecord, LeasedRecord]
  store.ack(a, { response: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello' } })
  store.ack(b, { response: { status: 201, body: new Uint8Array([1, 2, 3, 4, 5, 6, 7]) } })
  assert.deepEqual(store.get(small.id)?.response, { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('hello'), truncated: false })
  assert.deepEqual(store.get(big.id)?.response, { status: 201, headers: {}, body: Buffer.from([1, 2, 3, 4, 5]), truncated: true })
})

test('records published with an older policy keep their maxAttempts and backoff', (t) => {
  const fixture = openFixture(t)
  const { store, clock, random } = fixture
  store.declareQueue(NS, QUEUE, { maxAttempts: 2, backoff: { initialMs: 100, maxMs: 100 } })
  const { id } = store.publishOne(NS, QUEUE, { body: 1 })
  store.declareQueue(NS, QUEUE, { maxAttempts: 9, backoff: { initialMs: 9000, maxMs: 9000 } })
  random.value = 0.5
  store.fail(leaseOne(fixture), 'error')
  assert.equal(store.get(id)?.notBefore, clock.time + 50)
  clock.advance(50)
  assert.equal(store.fail(leaseOne(fixture), 'error'), 'dead')
})
