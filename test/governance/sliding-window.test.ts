import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SlidingWindowLimiter } from '../../src/governance/index.js'
import { admitted, arrivals, maxInAnyWindow } from './arrivals.js'

function times (limiter: SlidingWindowLimiter, now: number, n: number): number {
  let passed = 0
  for (let i = 0; i < n; i++) if (limiter.tryAcquire(now)) passed++
  return passed
}

/** What an exact sliding window must do, by brute force: admit iff fewer than `limit` were admitted in (now - w, now]. */
function reference (all: readonly number[], limit: number, windowMs: number): number[] {
  const passed: number[] = []
  for (const now of all) {
    if (passed.filter((t) => t > now - windowMs).length < limit) passed.push(now)
  }
  return passed
}

describe('SlidingWindowLimiter', () => {
  test('10 at t=999 pass, the 11th is refused, and nothing passes until those 10 are a window old', () => {
    const limiter = new SlidingWindowLimiter(10, 1000)
    assert.equal(times(limiter, 999, 10), 10)
    assert.equal(limiter.tryAcquire(999), false)
    assert.equal(limiter.tryAcquire(1000), false)
    assert.equal(limiter.tryAcquire(1998), false)
    assert.equal(times(limiter, 1999, 11), 10)
  })

  test('quota comes back request by request as each admission leaves the window', () => {
    const limiter = new SlidingWindowLimiter(10, 1000)
    times(limiter, 0, 5)
    times(limiter, 500, 5)
    assert.equal(limiter.tryAcquire(999), false)
    assert.equal(limiter.remaining(700), 0)
    assert.equal(limiter.msUntilMore(700), 300)
    assert.equal(times(limiter, 1000, 6), 5)
    assert.equal(limiter.msUntilMore(1200), 300)
    assert.equal(times(limiter, 1500, 6), 5)
  })

  test('a whole quota reports nothing more to come', () => {
    const limiter = new SlidingWindowLimiter(10, 1000)
    assert.equal(limiter.remaining(0), 10)
    assert.equal(limiter.msUntilMore(0), 0)
    times(limiter, 0, 1)
    assert.equal(limiter.msUntilMore(0), 1000)
    assert.equal(limiter.remaining(1000), 10)
  })

  test('admits exactly what a brute-force sliding log admits over seeded random patterns, and no window holds more than the limit', () => {
    for (const [seed, limit, windowMs, fractional] of [[1, 10, 1000, false], [2, 50, 1000, false], [3, 3, 250, false], [4, 10, 1000, true], [5, 1, 100, false]] as const) {
      const all = arrivals(seed, 4000, { fractional })
      const limiter = new SlidingWindowLimiter(limit, windowMs)
      const passed = admitted(all, (now) => limiter.tryAcquire(now))
      assert.deepEqual(passed, reference(all, limit, windowMs), `seed ${seed}`)
      assert.ok(maxInAnyWindow(passed, windowMs) <= limit, `seed ${seed}`)
    }
  })

  test('holds a limit larger than its first ring: 100 at once pass, the 101st does not', () => {
    const limiter = new SlidingWindowLimiter(100, 1000)
    assert.equal(times(limiter, 5, 101), 100)
    assert.equal(limiter.tryAcquire(1004), false)
    assert.equal(times(limiter, 1005, 101), 100)
  })

  test('absorbing another log holds its used count until its last admission leaves the window', () => {
    const other = new SlidingWindowLimiter(5, 1000)
    times(other, 0, 3)
    times(other, 400, 2)
    const limiter = new SlidingWindowLimiter(5, 1000)
    limiter.absorb(other, 500)
    assert.equal(limiter.remaining(500), 0)
    assert.equal(limiter.tryAcquire(1399), false)
    assert.equal(limiter.msUntilMore(1000), 400)
    assert.equal(times(limiter, 1400, 6), 5)
  })

  test('absorbing an idle log changes nothing', () => {
    const limiter = new SlidingWindowLimiter(5, 1000)
    times(limiter, 0, 2)
    limiter.absorb(new SlidingWindowLimiter(5, 1000), 10)
    assert.equal(limiter.remaining(10), 3)
    assert.equal(limiter.msUntilMore(10), 990)
  })

  test('a limit of 0 refuses every request', () => {
    const limiter = new SlidingWindowLimiter(0, 1000)
    assert.equal(limiter.tryAcquire(0), false)
    assert.equal(limiter.msUntilMore(0), 1000)
  })
})
