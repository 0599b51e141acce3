import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FixedWindowLimiter } from '../../src/governance/index.js'
import { admitted, arrivals, maxInAnyWindow } from './arrivals.js'

function times (limiter: FixedWindowLimiter, now: number, n: number): number {
  let passed = 0
  for (let i = 0; i < n; i++) if (limiter.tryAcquire(now)) passed++
  return passed
}

describe('FixedWindowLimiter', () => {
  test('admits the limit in a window aligned on the clock and refuses the next request in it', () => {
    const limiter = new FixedWindowLimiter(10, 1000)
    assert.equal(times(limiter, 999, 10), 10)
    assert.equal(limiter.tryAcquire(999), false)
  })

  test('a new window starts whole at its first millisecond: 10 at t=999 and 10 more at t=1000', () => {
    const limiter = new FixedWindowLimiter(10, 1000)
    assert.equal(times(limiter, 999, 11), 10)
    assert.equal(times(limiter, 1000, 11), 10)
    assert.equal(limiter.tryAcquire(1999), false)
    assert.equal(times(limiter, 2000, 1), 1)
  })

  test('remaining counts down in the window and msUntilMore is the time to its end', () => {
    const limiter = new FixedWindowLimiter(10, 1000)
    assert.equal(limiter.remaining(250), 10)
    assert.equal(limiter.msUntilMore(250), 0)
    times(limiter, 250, 3)
    assert.equal(limiter.remaining(250), 7)
    assert.equal(limiter.msUntilMore(250), 750)
    times(limiter, 998, 7)
    assert.equal(limiter.remaining(998), 0)
    assert.equal(limiter.msUntilMore(999), 1)
  })

  test('over a seeded random pattern each aligned window admits min(limit, arrivals) and any window at most 2 × limit', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const all = arrivals(seed, 5000)
      const limiter = new FixedWindowLimiter(10, 1000)
      const passed = admitted(all, (now) => limiter.tryAcquire(now))
      const perWindow = new Map<number, { arrived: number, passed: number }>()
      for (const t of all) {
        const w = perWindow.get(Math.floor(t / 1000)) ?? { arrived: 0, passed: 0 }
        w.arrived++
        perWindow.set(Math.floor(t / 1000), w)
      }
      for (const t of passed) perWindow.get(Math.floor(t / 1000))!.passed++
      for (const w of perWindow.values()) assert.equal(w.passed, Math.min(10, w.arrived))
      assert.ok(maxInAnyWindow(passed, 1000) <= 20)
    }
  })

  test('a limit of 0 refuses every request and says when to come back', () => {
    const limiter = new FixedWindowLimiter(0, 1000)
    assert.equal(limiter.tryAcquire(10), false)
    assert.equal(limiter.remaining(10), 0)
    assert.equal(limiter.msUntilMore(10), 990)
  })

  test('absorbing another limiter keeps the larger count of the current window', () => {
    const a = new FixedWindowLimiter(10, 1000)
    const b = new FixedWindowLimiter(10, 1000)
    times(a, 100, 2)
    times(b, 200, 6)
    a.absorb(b, 300)
    assert.equal(a.remaining(300), 4)
    const old = new FixedWindowLimiter(10, 1000)
    times(old, 100, 9)
    a.absorb(old, 1100)
    assert.equal(a.remaining(1100), 10)
  })

  test('refuses a limit that is not a whole number and a window that is not positive', () => {
    assert.throws(() => new FixedWindowLimiter(1.5, 1000), RangeError)
    assert.throws(() => new FixedWindowLimiter(10, 0), RangeError)
  })
})
