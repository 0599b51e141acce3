// The wait before a connector tries its broker again: doubling from the first
// wait up to a cap, half of each wait random.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RECONNECT_BACKOFF, reconnectDelay } from '../../src/connectors/reconnect-backoff.js'

const policy = { initialMs: 100, maxMs: 10_000 }

test('the wait doubles with each attempt and stops at the cap', () => {
  const ceilings = [0, 1, 2, 3, 6, 7, 8, 50].map((attempt) => reconnectDelay(attempt, () => 1, policy))
  assert.deepEqual(ceilings, [100, 200, 400, 800, 6400, 10_000, 10_000, 10_000])
})

test('half of each wait is random: between half the ceiling and the ceiling', () => {
  assert.equal(reconnectDelay(3, () => 0, policy), 400)
  assert.equal(reconnectDelay(3, () => 0.5, policy), 600)
  assert.equal(reconnectDelay(3, () => 1, policy), 800)
})

test('an attempt below 0 waits as the first; the default policy starts at 100 ms and stops at 10 s', () => {
  assert.equal(reconnectDelay(-4, () => 1, policy), 100)
  assert.deepEqual(RECONNECT_BACKOFF, policy)
  assert.equal(reconnectDelay(100, () => 1), 10_000)
})
