import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { TokenBucketLimiter } from '../../src/governance/index.js'
import { admitted, arrivals, maxInAnyWindow } from './arrivals.js'

function times (limiter: TokenBucketLimiter, now: number, n: number): number {
  let passed = 0
  for (let i = 0; i < n; i++) if (limiter.tryAcquire(now)) passed++
  return passed
}

describe('TokenBucketLimiter', () => {
  test('with no burst it paces: one at once, then one every windowMs / limit', () => {
    const limiter = new TokenBucketLimiter(10, 1000, 0)
    assert.equal(times(limiter, 0, 2), 1)
    assert.equal(limiter.msUntilMore(0), 100)
    assert.equal(limiter.tryAcquire(99), false)
    assert.equal(limiter.tryAcquire(100), true)
    let passed = 2
    for (let t = 101; t < 1000; t++) if (limiter.tryAcquire(t)) passed++
    assert.equal(passed, 10)
  })

  test('starts full with burst + 1 tokens: 10 at t=999 with burst 9, then one per 100 ms', () => {
    const limiter = new TokenBucketLimiter(10, 1000, 9)
    assert.equal(times(limiter, 999, 11), 10)
    assert.equal(limiter.tryAcquire(1000), false)
    assert.equal(limiter.tryAcquire(1098), false)
    assert.equal(limiter.msUntilMore(1098), 1)
    assert.equal(times(limiter, 1099, 2), 1)
    assert.equal(times(limiter, 1999, 10), 9)
  })

  test('a token every 333⅓ ms is exact to the millisecond, and a full bucket drops what overflows it', () => {
    const limiter = new TokenBucketLimiter(3, 1000, 0)
    assert.equal(limiter.tryAcquire(0), true)
    assert.equal(limiter.tryAcquire(333), false)
    assert.equal(limiter.tryAcquire(334), true)
    // The ⅔ ms past the token at 334 overflowed the one-token bucket: the next is due at 667⅓.
    assert.equal(limiter.tryAcquire(667), false)
    assert.equal(limiter.msUntilMore(667), 1 / 3)
    assert.equal(limiter.tryAcquire(668), true)
  })

  test('3 per second stays exact over 1000 seconds: the k-th token is due at ceil(1000k / 3) ms, not a millisecond earlier', () => {
    const limiter = new TokenBucketLimiter(3, 1000, 2)
    assert.equal(times(limiter, 0, 4), 3)
    for (let k = 1; k <= 3000; k++) {
      const due = Math.ceil(1000 * k / 3)
      assert.equal(limiter.tryAcquire(due - 1), false, `token ${k} at ${due - 1}`)
      assert.equal(limiter.tryAcquire(due), true, `token ${k} at ${due}`)
    }
  })

  test('remaining counts whole tokens; a full bucket has nothing more to come', () => {
    const limiter = new TokenBucketLimiter(10, 1000, 4)
    assert.equal(limiter.remaining(0), 5)
    assert.equal(limiter.msUntilMore(0), 0)
    times(limiter, 0, 3)
    assert.equal(limiter.remaining(50), 2)
    assert.equal(limiter.msUntilMore(50), 50)
    assert.equal(limiter.remaining(10_000), 5)
  })

  test('the bound is reached exactly: burst + 1 at once and the rate after it put limit + burst in one window', () => {
    const limiter = new TokenBucketLimiter(10, 1000, 5)
    const all = [0, 0, 0, 0, 0, 0, 0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 950]
    const passed = admitted(all, (now) => limiter.tryAcquire(now))
    assert.equal(passed.length, 15)
    assert.equal(maxInAnyWindow(passed, 1000), 15)
  })

  test('over seeded random patterns no interval of the window admits more than limit + burst', () => {
    for (const [seed, limit, burst, windowMs, fractional] of [[1, 10, 0, 1000, false], [2, 10, 5, 1000, false], [3, 7, 20, 1000, false], [4, 3, 2, 500, false], [5, 10, 3, 1000, true]] as const) {
      const all = arrivals(seed, 5000, { fractional })
      const limiter = new TokenBucketLimiter(limit, windowMs, burst)
      const passed = admitted(all, (now) => limiter.tryAcquire(now))
      assert.ok(maxInAnyWindow(passed, windowMs) <= limit + burst, `seed ${seed}`)
      assert.ok(passed.length > 0)
    }
  })

  test('admits exactly what GCRA admits (in integer units: time × limit, one emission per window, tolerance burst windows)', () => {
    for (const [seed, limit, burst] of [[11, 10, 0], [12, 10, 9], [13, 3, 4], [14, 7, 1]] as const) {
      const windowMs = 1000
      const all = arrivals(seed, 4000)
      let tat = -Infinity
      const expected = all.filter((t) => {
        if (t * limit < tat - burst * windowMs) return false
        tat = Math.max(tat, t * limit) + windowMs
        return true
      })
      const limiter = new TokenBucketLimiter(limit, windowMs, burst)
      assert.deepEqual(admitted(all, (now) => limiter.tryAcquire(now)), expected, `seed ${seed}`)
    }
  })

  test('absorbing another bucket keeps the lower level', () => {
    const a = new TokenBucketLimiter(10, 1000, 9)
    const b = new TokenBucketLimiter(10, 1000, 9)
    times(b, 0, 8)
    a.absorb(b, 0)
    assert.equal(a.remaining(0), 2)
    assert.equal(a.remaining(300), 5)
  })

  test('a limit of 0 refuses every request, burst or not', () => {
    const limiter = new TokenBucketLimiter(0, 1000, 5)
    assert.equal(limiter.tryAcquire(0), false)
    assert.equal(limiter.tryAcquire(1e12), false)
    assert.equal(limiter.msUntilMore(0), 1000)
  })
})
