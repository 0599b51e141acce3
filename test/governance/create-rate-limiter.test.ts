import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createKeyedRateLimiter, createRateLimiter, createThrottle, FixedWindowLimiter, SlidingWindowLimiter, Throttle, TokenBucketLimiter,
  type RateLimitPolicy
} from '../../src/governance/index.js'

const policy: RateLimitPolicy = { kind: 'rate-limit', name: 'rate-limit-foo', algorithm: 'sliding-window', limit: 10, windowMs: 1000, burst: 4, key: { by: 'function' }, maxKeys: 7 }

describe('createRateLimiter', () => {
  test('builds the policy\'s algorithm with its limit, window and burst', () => {
    assert.ok(createRateLimiter({ ...policy, algorithm: 'fixed-window' }) instanceof FixedWindowLimiter)
    assert.ok(createRateLimiter(policy) instanceof SlidingWindowLimiter)
    const bucket = createRateLimiter({ ...policy, algorithm: 'token-bucket' })
    assert.ok(bucket instanceof TokenBucketLimiter)
    assert.equal(bucket.remaining(0), 5)
    assert.equal(createRateLimiter(policy).remaining(0), 10)
  })

  test('a keyed limiter holds maxKeys keys of that algorithm', () => {
    const keyed = createKeyedRateLimiter({ ...policy, key: { by: 'ip' } })
    for (let i = 0; i < 20; i++) keyed.get(`10.0.0.${i}`, 0)
    assert.equal(keyed.size, 7)
    assert.ok(keyed.get('10.0.0.1', 0) instanceof SlidingWindowLimiter)
  })

  test('a throttle policy gives a throttle', () => {
    const throttle = createThrottle({ kind: 'throttle', name: 'throttling-foo', intervalMs: 20, maxQueueingMs: 500, key: { by: 'function' }, maxKeys: 1 })
    assert.ok(throttle instanceof Throttle)
    assert.equal(throttle.acquire(0), 0)
    assert.equal(throttle.acquire(0), 20)
  })
})
