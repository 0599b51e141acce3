// Token bucket with continuous refill: `limit` tokens per `windowMs`, holding
// at most `burst + 1` (one at the rate, `burst` extra at once, as nginx's
// `burst` and GCRA's burst tolerance count them), full at the start. Any
// interval of `windowMs` admits at most `limit + burst`. It is GCRA in another
// form: the level is kept in units where one token is `windowMs` and the bucket
// gains `limit` units a millisecond, so integer inputs stay integers and the
// edges are exact (no drift from adding 1000/3 ms per request).

import { checkRate, type RateLimiter } from './rate-limiter.js'

export class TokenBucketLimiter implements RateLimiter {
  private readonly capacity: number
  private level: number
  private last = -Infinity

  constructor (readonly limit: number, readonly windowMs: number, readonly burst: number) {
    checkRate(limit, windowMs)
    if (!Number.isInteger(burst) || burst < 0) throw new RangeError(`a burst must be a whole number of requests >= 0, not ${burst}`)
    this.capacity = (burst + 1) * windowMs
    this.level = this.fullLevel()
  }

  tryAcquire (now: number): boolean {
    this.refill(now)
    if (this.level < this.windowMs) return false
    this.level -= this.windowMs
    return true
  }

  remaining (now: number): number {
    this.refill(now)
    return Math.floor(this.level / this.windowMs)
  }

  msUntilMore (now: number): number {
    this.refill(now)
    if (this.limit === 0) return this.windowMs
    if (this.level >= this.capacity) return 0
    const nextToken = (Math.floor(this.level / this.windowMs) + 1) * this.windowMs
    return (nextToken - this.level) / this.limit
  }

  absorb (other: TokenBucketLimiter, now: number): void {
    this.refill(now)
    other.refill(now)
    if (other.level < this.level) this.level = other.level
  }

  reset (): void {
    this.level = this.fullLevel()
    this.last = -Infinity
  }

  private fullLevel (): number {
    return this.limit > 0 ? this.capacity : 0
  }

  private refill (now: number): void {
    const elapsed = now - this.last
    if (!(elapsed > 0)) return
    this.last = now
    if (this.limit === 0) return
    // After a long idle the product may pass 2^53 or be Infinity: it is capped at once.
    this.level = Math.min(this.capacity, this.level + elapsed * this.limit)
  }
}
