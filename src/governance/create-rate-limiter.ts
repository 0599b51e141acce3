// A policy's limiter, the algorithm chosen from a table. A keyed policy (per
// caller, IP, header or query value) gets a KeyedLimiter of these; a throttle
// policy a Throttle, keyed the same way.

import { FixedWindowLimiter } from './fixed-window.js'
import { KeyedLimiter } from './keyed-limiter.js'
import type { RateLimitPolicy, ThrottlePolicy } from './policy.js'
import type { RateLimiter } from './rate-limiter.js'
import { SlidingWindowLimiter } from './sliding-window.js'
import { Throttle } from './throttle.js'
import { TokenBucketLimiter } from './token-bucket.js'

const ALGORITHMS: Record<RateLimitPolicy['algorithm'], (policy: RateLimitPolicy) => RateLimiter> = {
  'fixed-window': (policy) => new FixedWindowLimiter(policy.limit, policy.windowMs),
  'sliding-window': (policy) => new SlidingWindowLimiter(policy.limit, policy.windowMs),
  'token-bucket': (policy) => new TokenBucketLimiter(policy.limit, policy.windowMs, policy.burst)
}

export function createRateLimiter (policy: RateLimitPolicy): RateLimiter {
  return ALGORITHMS[policy.algorithm](policy)
}

export function createThrottle (policy: ThrottlePolicy): Throttle {
  return new Throttle(policy.intervalMs, policy.maxQueueingMs)
}

/** One limiter per key value, `policy.maxKeys` of them at most. */
export function createKeyedRateLimiter (policy: RateLimitPolicy): KeyedLimiter<RateLimiter> {
  return new KeyedLimiter(policy.maxKeys, () => createRateLimiter(policy))
}

export function createKeyedThrottle (policy: ThrottlePolicy): KeyedLimiter<Throttle> {
  return new KeyedLimiter(policy.maxKeys, () => createThrottle(policy))
}
