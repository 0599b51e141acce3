// What the gateway asks of every rate limiter, whatever its algorithm. Time is
// passed in (`now`, ms on a monotonic scale, read once per request by the
// caller), so the limiters are pure state machines, tested on a fake clock.

import type { KeyedState } from './keyed-limiter.js'

export interface RateLimiter extends KeyedState {
  /** Requests per window: the `q` of the IETF `RateLimit-Policy`. */
  readonly limit: number
  readonly windowMs: number
  /** Takes one unit of quota if there is one; false: refuse the request. */
  tryAcquire (now: number): boolean
  /** Units left now: the IETF `r`. */
  remaining (now: number): number
  /**
   * Ms until more quota becomes available: the IETF `t`, and for a refused
   * request the wait until one would pass (its Retry-After). 0 when the quota
   * is whole (nothing more is coming).
   */
  msUntilMore (now: number): number
}

/** Throws on a limit that no algorithm can honour exactly: quotas are whole requests, windows positive. */
export function checkRate (limit: number, windowMs: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`a rate limit must be a whole number of requests >= 0, not ${limit}`)
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`a rate limit window must be a positive number of ms, not ${windowMs}`)
}
