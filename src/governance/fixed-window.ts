// Fixed window: at most `limit` requests in each window, windows aligned on
// multiples of `windowMs` of the clock. The cheapest limiter and the easiest
// for a client to read (`t` is the time to the window's end), but by its
// nature it admits up to 2 × limit in one window's length across an edge
// (`limit` at the end of a window, `limit` again at the start of the next).
// The sliding window and the token bucket have no such edge.

import { checkRate, type RateLimiter } from './rate-limiter.js'

export class FixedWindowLimiter implements RateLimiter {
  private start = -Infinity
  private count = 0

  constructor (readonly limit: number, readonly windowMs: number) {
    checkRate(limit, windowMs)
  }

  tryAcquire (now: number): boolean {
    this.roll(now)
    if (this.count >= this.limit) return false
    this.count++
    return true
  }

  remaining (now: number): number {
    this.roll(now)
    return this.limit - this.count
  }

  msUntilMore (now: number): number {
    this.roll(now)
    if (this.count === 0 && this.limit > 0) return 0
    return this.start + this.windowMs - now
  }

  absorb (other: FixedWindowLimiter, now: number): void {
    this.roll(now)
    other.roll(now)
    if (other.start > this.start) {
      this.start = other.start
      this.count = other.count
    } else if (other.start === this.start && other.count > this.count) {
      this.count = other.count
    }
  }

  reset (): void {
    this.start = -Infinity
    this.count = 0
  }

  private roll (now: number): void {
    if (now < this.start + this.windowMs) return
    this.start = Math.floor(now / this.windowMs) * this.windowMs
    this.count = 0
  }
}
