import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createKeyedRateLimiter, createKeyedThrottle, FixedWindowLimiter, KeyBudget, KeyedLimiter, SlidingWindowLimiter,
  type RateLimitPolicy, type RateLimiter
} from '../../src/governance/index.js'
import { arrivals, maxInAnyWindow, seededRandom } from './arrivals.js'

function policy (algorithm: RateLimitPolicy['algorithm'], maxKeys: number): RateLimitPolicy {
  return { kind: 'rate-limit', name: 'per-caller', algorithm, limit: 3, windowMs: 1000, burst: 2, key: { by: 'caller' }, maxKeys }
}

function maxInAlignedWindow (times: readonly number[], windowMs: number): number {
  const counts = new Map<number, number>()
  for (const t of times) counts.set(Math.floor(t / windowMs), (counts.get(Math.floor(t / windowMs)) ?? 0) + 1)
  return Math.max(0, ...counts.values())
}

function spend (limiter: RateLimiter, now: number, n: number): number {
  let passed = 0
  for (let i = 0; i < n; i++) if (limiter.tryAcquire(now)) passed++
  return passed
}

describe('KeyedLimiter', () => {
  test('out of its shared budget a keyed limit recycles its own least recently used key, and one with none shares the forgotten keys\' counter', () => {
    const budget = new KeyBudget(3)
    const first = new KeyedLimiter(10, () => new FixedWindowLimiter(3, 1000), budget)
    const second = new KeyedLimiter(10, () => new FixedWindowLimiter(3, 1000), budget)
    for (const key of ['a', 'b', 'c']) first.get(key, 0)
    assert.equal(budget.inUse, 3)
    // The budget is spent: a new key of the first recycles its oldest, well below its maxKeys.
    first.get('d', 0)
    assert.deepEqual([first.size, first.has('a'), first.has('d'), first.evictions], [3, false, true, 1])
    // The second has nothing of its own: every key it sees shares its overflow, used as much as any forgotten one.
    const x = second.get('x', 0)
    assert.equal(x, second.get('y', 0))
    assert.equal(x, second.overflow)
    assert.equal(second.size, 0)
    assert.equal(spend(x, 0, 5), 3, 'the shared counter still limits')
    // The first goes away: its keys come back, and the second tracks keys of its own again.
    first.release()
    assert.deepEqual([first.size, budget.inUse], [0, 0])
    second.get('x', 10)
    assert.deepEqual([second.size, budget.inUse], [1, 1])
  })

  test('tracks at most maxKeys keys and evicts the least recently used one', () => {
    const keyed = new KeyedLimiter(2, () => new FixedWindowLimiter(3, 1000))
    keyed.get('a', 0)
    keyed.get('b', 0)
    keyed.get('a', 1)
    keyed.get('c', 2)
    assert.equal(keyed.size, 2)
    assert.equal(keyed.has('a'), true)
    assert.equal(keyed.has('b'), false)
    assert.equal(keyed.has('c'), true)
    assert.equal(keyed.evictions, 1)
  })

  test('each key has its own quota while it is tracked', () => {
    const keyed = createKeyedRateLimiter(policy('sliding-window', 10))
    assert.equal(spend(keyed.get('a', 0), 0, 5), 3)
    assert.equal(spend(keyed.get('b', 0), 0, 5), 3)
  })

  for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
    test(`${algorithm}: an evicted key that comes back is not reset to a full quota`, () => {
      const keyed = createKeyedRateLimiter(policy(algorithm, 2))
      assert.equal(spend(keyed.get('a', 0), 0, 10), 3)
      keyed.get('b', 10)
      keyed.get('c', 10)
      assert.equal(keyed.has('a'), false)
      assert.equal(keyed.get('a', 20).tryAcquire(20), false)
      assert.equal(keyed.get('a', 20).remaining(20), 0)
    })
  }

  for (const algorithm of ['sliding-window', 'token-bucket', 'fixed-window'] as const) {
    test(`${algorithm}: with 40 keys churning through 5 places, no key gets more in any window than it would tracked`, () => {
      // What one tracked limiter allows: 3 per window for the log, 3 + burst 2 for the bucket, 3 per aligned window for the fixed one.
      const most = (times: number[]): number => algorithm === 'fixed-window' ? maxInAlignedWindow(times, 1000) : maxInAnyWindow(times, 1000)
      const bound = algorithm === 'token-bucket' ? 5 : 3
      for (const seed of [1, 2, 3]) {
        const keyed = createKeyedRateLimiter(policy(algorithm, 5))
        const pick = seededRandom(seed * 7)
        const byKey = new Map<string, number[]>()
        for (const now of arrivals(seed, 6000)) {
          const key = `k${Math.floor(pick() * 40)}`
          if (!keyed.get(key, now).tryAcquire(now)) continue
          byKey.set(key, [...(byKey.get(key) ?? []), now])
        }
        assert.ok(keyed.evictions > 1000)
        for (const [key, times] of byKey) assert.ok(most(times) <= bound, `seed ${seed} key ${key}`)
      }
    })
  }

  test('a returning key gets its quota back when its window has passed, as it would have tracked', () => {
    const keyed = createKeyedRateLimiter(policy('sliding-window', 2))
    spend(keyed.get('a', 0), 0, 3)
    keyed.get('b', 10)
    keyed.get('c', 10)
    assert.equal(spend(keyed.get('a', 999), 999, 3), 0)
    assert.equal(spend(keyed.get('a', 1000), 1000, 4), 3)
  })

  test('a key that enters after an eviction starts no fuller than the most used key evicted in its window', () => {
    const keyed = createKeyedRateLimiter(policy('fixed-window', 2))
    spend(keyed.get('a', 0), 0, 2)
    keyed.get('b', 0)
    assert.equal(keyed.get('c', 0).remaining(0), 1)
    assert.equal(keyed.get('d', 1000).remaining(1000), 3)
  })

  test('keys never evicted over a full quota start whole', () => {
    const keyed = createKeyedRateLimiter(policy('sliding-window', 2))
    keyed.get('a', 0)
    keyed.get('b', 0)
    assert.equal(keyed.get('c', 0).remaining(0), 3)
  })

  test('a throttled key evicted while queued keeps its place in the queue when it comes back', () => {
    const keyed = createKeyedThrottle({ kind: 'throttle', name: 't', intervalMs: 100, maxQueueingMs: 1000, key: { by: 'ip' }, maxKeys: 1 })
    const a = keyed.get('10.0.0.1', 0)
    assert.equal(a.acquire(0), 0)
    assert.equal(a.acquire(0), 100)
    keyed.get('10.0.0.2', 0)
    assert.equal(keyed.get('10.0.0.1', 0).acquire(0), 200)
  })

  test('once full, an eviction reuses the evicted limiter: the steady state allocates none', () => {
    let made = 0
    const keyed = new KeyedLimiter(2, () => { made++; return new SlidingWindowLimiter(3, 1000) })
    const a = keyed.get('a', 0)
    keyed.get('b', 0)
    assert.equal(keyed.get('c', 0), a)
    for (let i = 0; i < 100; i++) keyed.get(`k${i}`, i)
    assert.equal(made, 3)
    assert.equal(keyed.size, 2)
  })

  test('refuses a maxKeys below 1', () => {
    assert.throws(() => new KeyedLimiter(0, () => new FixedWindowLimiter(1, 1000)), RangeError)
  })
})
