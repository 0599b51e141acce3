import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fullJitterBackoffMs, RECOVERY_JITTER, recoveryBackoffMs } from '../../src/governance/index.js'

describe('fullJitterBackoffMs', () => {
  test('is random() × min(cap, base × 2^attempt), the first retry being attempt 0', () => {
    const top = (attempt: number): number => fullJitterBackoffMs(attempt, 25, 250, () => 1)
    assert.deepEqual([0, 1, 2, 3, 4, 5, 40].map(top), [25, 50, 100, 200, 250, 250, 250])
    assert.equal(fullJitterBackoffMs(3, 25, 250, () => 0), 0)
    assert.equal(fullJitterBackoffMs(3, 25, 250, () => 0.5), 100)
  })

  test('stays under the cap for an attempt count whose power overflows', () => {
    assert.equal(fullJitterBackoffMs(5000, 25, 250, () => 0.5), 125)
  })
})

describe('recoveryBackoffMs', () => {
  test('the first trip opens for exactly the recovery time, whatever the jitter', () => {
    assert.equal(recoveryBackoffMs(1, 5000, 60_000, () => 0.99), 5000)
  })

  test('doubles per consecutive trip up to the cap, with no jitter when random() is 0', () => {
    const none = (trip: number): number => recoveryBackoffMs(trip, 5000, 60_000, () => 0)
    assert.deepEqual([1, 2, 3, 4, 5, 6, 100].map(none), [5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000])
  })

  test('jitter shortens by at most RECOVERY_JITTER, so each trip is still longer than the one before until the cap', () => {
    for (let trip = 2; trip < 5; trip++) {
      const shortest = recoveryBackoffMs(trip + 1, 5000, 60_000, () => 1)
      const longest = recoveryBackoffMs(trip, 5000, 60_000, () => 0)
      assert.ok(shortest > longest)
    }
    assert.equal(recoveryBackoffMs(10, 5000, 60_000, () => 1), 60_000 * (1 - RECOVERY_JITTER))
  })
})
