// The lease clock the NATS connector fences on, and the releases it counts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fenceMargin, leaseEnd, leaseStart } from '../../src/connectors/nats-lease.js'
import { ReleaseCounts } from '../../src/connectors/nats-releases.js'

test('a lease ends here a tenth of it early, at least 50 ms and at most a second', () => {
  assert.equal(fenceMargin(1_500), 150)
  assert.equal(fenceMargin(100), 50)
  assert.equal(fenceMargin(300_000), 1_000)
  assert.equal(leaseEnd(10_000, 1_500), 11_350)
})

test('a lease starts a margin before the message was read, never before its pull request was sent', () => {
  assert.equal(leaseStart(10_000, 10_020, 1_500), 10_000, 'read soon after the request: from the request')
  assert.equal(leaseStart(10_000, 14_000, 1_500), 13_850, 'read long after: a margin before it was read')
})

test('attempts are deliveries less releases, never below the first', () => {
  const releases = new ReleaseCounts()
  assert.equal(releases.attempt(7, 1), 1)
  releases.add(7)
  assert.equal(releases.attempt(7, 2), 1, 'a release uses no attempt')
  assert.equal(releases.attempt(7, 3), 2)
  releases.add(7)
  assert.equal(releases.of(7), 2)
  assert.equal(releases.attempt(7, 1), 1)
  releases.forget(7)
  assert.equal(releases.attempt(7, 4), 4)
})

test('past its limit the oldest message\'s releases are dropped: its attempt is then counted high, never low', () => {
  const releases = new ReleaseCounts(2)
  releases.add(1)
  releases.add(2)
  releases.add(1)
  releases.add(3)
  assert.equal(releases.of(2), 0, 'the least recently released goes first')
  assert.equal(releases.of(1), 2)
  assert.equal(releases.of(3), 1)
})
