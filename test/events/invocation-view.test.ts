import assert from 'node:assert/strict'
import { test } from 'node:test'
import { invocationView } from '../../src/events/index.js'
import type { LeasedRecord, RecordView } from '../../src/events/index.js'
import { LEASE, NS, openFixture } from './event-store-fixture.js'

const FN = 'async/report'

test('an async invocation shows queued, running, retrying, then succeeded with its timings and response', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, FN, { maxAttempts: 3, backoff: { initialMs: 0, maxMs: 0 } })
  const { id } = store.publishOne(NS, FN, { body: { report: 'daily' }, kind: 'invocation' })
  const view = (): ReturnType<typeof invocationView> => invocationView(store.get(id) as RecordView)
  assert.equal(view().status, 'queued')
  clock.advance(300) // waited
  const first = store.lease(NS, FN, LEASE)[0] as LeasedRecord
  assert.equal(view().status, 'running')
  clock.advance(100)
  store.fail(first, 'error', { status: 500, error: 'db down' })
  assert.equal(view().status, 'retrying')
  const second = store.lease(NS, FN, LEASE)[0] as LeasedRecord
  clock.advance(1200)
  store.ack(second, { initMs: 250, response: { status: 200, body: '{"rows":3}' } })
  const done = view()
  assert.equal(done.status, 'succeeded')
  assert.equal(done.attempts, 2)
  assert.deepEqual(done.timings, { waitedMs: 300, coldStartMs: 250, ranMs: 1200 })
  assert.equal(done.startedAt, done.createdAt + 300)
  assert.equal(done.finishedAt, clock.time)
  assert.equal(done.response?.status, 200)
  assert.equal(Buffer.from(done.response?.body as Uint8Array).toString(), '{"rows":3}')
  assert.deepEqual(done.history.map((a) => a.outcome), ['error', 'succeeded'])
})

test('an invocation that ran out of attempts is failed with its reason; one past its maximum age is expired', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, FN, { maxAttempts: 1 })
  const failed = store.publishOne(NS, FN, { body: 1, kind: 'invocation' })
  store.fail(store.lease(NS, FN, LEASE)[0] as LeasedRecord, 'error', { error: 'boom' })
  assert.equal(invocationView(store.get(failed.id) as RecordView).status, 'failed')
  assert.equal(invocationView(store.get(failed.id) as RecordView).reason, 'error: boom on attempt 1 of 1: no attempts left')
  const aged = store.publishOne(NS, FN, { body: 2, kind: 'invocation', maxAgeMs: 1000 })
  clock.advance(1000)
  store.recoverExpiredLeases()
  assert.equal(invocationView(store.get(aged.id) as RecordView).status, 'expired')
  const cancelled = store.publishOne(NS, FN, { body: 3, kind: 'invocation' })
  store.cancel(cancelled.id)
  assert.equal(invocationView(store.get(cancelled.id) as RecordView).status, 'cancelled')
})
