import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeBody } from '../../src/events/index.js'
import type { LeasedRecord } from '../../src/events/index.js'
import { LEASE, NS, openFixture, QUEUE } from './event-store-fixture.js'
import type { Fixture } from './event-store-fixture.js'

// Three poison messages dead after their single attempt, and one that succeeded.
function withDeadRecords (fixture: Fixture): string[] {
  const { store } = fixture
  store.declareQueue(NS, QUEUE, { maxAttempts: 1 })
  const ids = store.publish(NS, QUEUE, [
    { body: 'p1', attributes: { why: 'one' } }, { body: 'p2' }, { body: 'p3' }, { body: 'fine' }
  ]).map((r) => r.id)
  const leased = store.lease(NS, QUEUE, LEASE)
  store.settle(leased.map((r: LeasedRecord, i) => i < 3
    ? { id: r.id, token: r.token, outcome: 'failed' as const, cause: 'error' as const, error: `bad ${i + 1}` }
    : { id: r.id, token: r.token, outcome: 'succeeded' as const }))
  return ids
}

test('the dead-letter list holds the dead records with body, attributes and attempts, in publish order', (t) => {
  const fixture = openFixture(t)
  const ids = withDeadRecords(fixture)
  const dead = fixture.store.listDead(NS, QUEUE)
  assert.deepEqual(dead.map((r) => r.id), ids.slice(0, 3))
  assert.deepEqual(decodeBody(dead[0]?.body as Uint8Array, 'text'), 'p1')
  assert.deepEqual(dead[0]?.attributes, { why: 'one' })
  assert.deepEqual(dead.map((r) => r.history.map((a) => a.error)), [['bad 1'], ['bad 2'], ['bad 3']])
  assert.deepEqual(fixture.store.listDead(NS, QUEUE, { afterSeq: dead[0]?.seq, limit: 1 }).map((r) => r.id), [ids[1]])
  assert.equal(fixture.store.stats(NS, QUEUE).dead, 3)
})

test('replay by id puts that record back, due now, with fresh attempts and its history kept', (t) => {
  const fixture = openFixture(t)
  const { store, clock } = fixture
  const ids = withDeadRecords(fixture)
  clock.advance(1000)
  assert.equal(store.replayDead(NS, QUEUE, { ids: [ids[1] as string, 'no-such-id', ids[3] as string] }), 1, 'only dead records of this queue are replayed')
  const record = store.get(ids[1] as string)
  assert.equal(record?.state, 'ready')
  assert.equal(record?.attempts, 0)
  assert.equal(record?.notBefore, clock.time)
  assert.equal(record?.deadReason, undefined)
  assert.equal(record?.history.length, 1)
  const [lease] = store.lease(NS, QUEUE, LEASE)
  assert.deepEqual([lease?.id, lease?.attempt, lease?.token], [ids[1], 1, 2])
  assert.deepEqual(store.stats(NS, QUEUE), { namespace: NS, queue: QUEUE, waiting: 0, leased: 1, backlog: 1, dead: 2, lastCompletedAt: clock.time - 1000 })
})

test('replay all empties the dead letters of that queue only', (t) => {
  const fixture = openFixture(t)
  const { store } = fixture
  withDeadRecords(fixture)
  store.declareQueue(NS, 'other', { maxAttempts: 1 })
  store.publishOne(NS, 'other', { body: 'x' })
  store.fail(store.lease(NS, 'other', LEASE)[0] as LeasedRecord, 'error')
  assert.equal(store.replayDead(NS, QUEUE, { all: true }), 3)
  assert.equal(store.stats(NS, QUEUE).waiting, 3)
  assert.equal(store.stats(NS, 'other').dead, 1)
})

test('a replay is not held to maxDepth: the records are stored already', (t) => {
  const fixture = openFixture(t)
  const { store } = fixture
  withDeadRecords(fixture)
  store.declareQueue(NS, QUEUE, { maxAttempts: 1, maxDepth: 1 })
  assert.equal(store.replayDead(NS, QUEUE, { all: true }), 3)
  assert.equal(store.stats(NS, QUEUE).backlog, 3)
})

test('purge deletes dead records and their attempts, by id or all, and nothing else', (t) => {
  const fixture = openFixture(t)
  const { store } = fixture
  const ids = withDeadRecords(fixture)
  assert.equal(store.purgeDead(NS, QUEUE, { ids: [ids[0] as string, ids[3] as string] }), 1)
  assert.equal(store.get(ids[0] as string), undefined)
  assert.equal(store.get(ids[3] as string)?.state, 'succeeded')
  assert.equal(store.purgeDead(NS, QUEUE, { all: true }), 2)
  assert.deepEqual(store.listDead(NS, QUEUE), [])
  assert.equal(store.stats(NS, QUEUE).dead, 0)
})
