import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Throttle, THROTTLE_REFUSED } from '../../src/governance/index.js'
import { arrivals, maxInAnyWindow } from './arrivals.js'

describe('Throttle', () => {
  test('paces requests arriving together intervalMs apart and refuses the one whose wait would pass maxQueueingMs', () => {
    const throttle = new Throttle(20, 500)
    const waits = Array.from({ length: 27 }, () => throttle.acquire(0))
    assert.deepEqual(waits.slice(0, 26), Array.from({ length: 26 }, (_, i) => i * 20))
    assert.equal(waits[26], THROTTLE_REFUSED)
    assert.equal(throttle.msUntilMore(0), 20)
    assert.equal(throttle.acquire(19), THROTTLE_REFUSED)
    assert.equal(throttle.acquire(20), 500)
  })

  test('a request after the queue drained passes at once and starts the pacing again from its arrival', () => {
    const throttle = new Throttle(20, 500)
    assert.equal(throttle.acquire(0), 0)
    assert.equal(throttle.acquire(0), 20)
    assert.equal(throttle.acquire(1000), 0)
    assert.equal(throttle.acquire(1005), 15)
    assert.equal(throttle.acquire(1040), 0)
  })

  test('with maxQueueingMs 0 it only enforces the interval: an early request is refused, not queued', () => {
    const throttle = new Throttle(20, 0)
    assert.equal(throttle.acquire(0), 0)
    assert.equal(throttle.acquire(10), THROTTLE_REFUSED)
    assert.equal(throttle.msUntilMore(10), 10)
    assert.equal(throttle.acquire(20), 0)
  })

  test('with intervalMs 0 everything passes at once', () => {
    const throttle = new Throttle(0, 500)
    for (let i = 0; i < 100; i++) assert.equal(throttle.acquire(7), 0)
  })

  test('counts the requests still queued', () => {
    const throttle = new Throttle(20, 500)
    for (let i = 0; i < 6; i++) throttle.acquire(0)
    assert.equal(throttle.queued(0), 5)
    assert.equal(throttle.queued(50), 3)
    assert.equal(throttle.queued(100), 0)
  })

  test('over seeded random patterns departures are intervalMs apart, no wait passes maxQueueingMs, and only a request that could not queue is refused', () => {
    for (const [seed, interval, maxQueue] of [[1, 20, 500], [2, 100, 250], [3, 7, 0], [4, 50, 1000]] as const) {
      const throttle = new Throttle(interval, maxQueue)
      const departures: number[] = []
      let last = -Infinity
      for (const now of arrivals(seed, 4000)) {
        const wait = throttle.acquire(now)
        const earliest = Math.max(now, last + interval)
        if (wait === THROTTLE_REFUSED) {
          assert.ok(earliest - now > maxQueue)
          continue
        }
        assert.equal(now + wait, earliest)
        assert.ok(wait <= maxQueue)
        departures.push(last = now + wait)
      }
      assert.ok(maxInAnyWindow(departures, 1000) <= Math.ceil(1000 / interval), `seed ${seed}`)
    }
  })

  test('absorbing another throttle takes its later turn', () => {
    const a = new Throttle(20, 500)
    const b = new Throttle(20, 500)
    for (let i = 0; i < 5; i++) b.acquire(0)
    a.absorb(b)
    assert.equal(a.acquire(0), 100)
  })
})
