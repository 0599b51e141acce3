import assert from 'node:assert/strict'
import { test } from 'node:test'
import { firingId } from '../../src/events/index.js'
import { LEASE, NS, openFixture } from './event-store-fixture.js'

const CRON_QUEUE = 'cron/nightly'
const AT = Date.UTC(2025, 2, 30, 1, 30)

test('a firing is recorded under its deterministic id; firing the same time again (a restart) is a duplicate', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, CRON_QUEUE)
  const first = fixture.store.fire(NS, CRON_QUEUE, { trigger: 'nightly', scheduledTime: AT, record: { body: { scheduledTime: AT } } })
  assert.deepEqual(first, { id: 'cron:shop/nightly@2025-03-30T01:30:00.000Z', outcome: 'created' })
  assert.equal(first.id, firingId(NS, 'nightly', AT))
  const store = fixture.reopen()
  store.declareQueue(NS, CRON_QUEUE)
  assert.equal(store.fire(NS, CRON_QUEUE, { trigger: 'nightly', scheduledTime: AT, record: { body: {} } }).outcome, 'duplicate')
  assert.equal(store.lease(NS, CRON_QUEUE, LEASE).length, 1)
  assert.equal(store.get(first.id)?.kind, 'firing')
  assert.equal(store.get(first.id)?.type, 'dev.roost.cron.firing')
})

test('the trigger\'s mark is the latest time fired, survives a restart, and never moves back', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, CRON_QUEUE)
  assert.equal(fixture.store.lastFiring(NS, 'nightly'), undefined)
  fixture.store.fire(NS, CRON_QUEUE, { trigger: 'nightly', scheduledTime: AT, record: { body: 1 } })
  fixture.store.fire(NS, CRON_QUEUE, { trigger: 'nightly', scheduledTime: AT - 86_400_000, record: { body: 1 } })
  const store = fixture.reopen()
  assert.equal(store.lastFiring(NS, 'nightly'), AT)
  assert.equal(store.forgetTrigger(NS, 'nightly'), true)
  assert.equal(store.lastFiring(NS, 'nightly'), undefined)
})

test('a skipped time moves the mark without a record, and the mark still never moves back', (t) => {
  const fixture = openFixture(t)
  fixture.store.declareQueue(NS, CRON_QUEUE)
  fixture.store.skipFiring(NS, 'nightly', AT)
  assert.equal(fixture.store.lastFiring(NS, 'nightly'), AT)
  assert.equal(fixture.store.stats(NS, CRON_QUEUE).backlog, 0)
  fixture.store.skipFiring(NS, 'nightly', AT - 1000)
  assert.equal(fixture.reopen().lastFiring(NS, 'nightly'), AT)
})
