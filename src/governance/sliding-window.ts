// Sliding window, exact: no interval of `windowMs` anywhere admits more than
// `limit` requests, and every request that keeps to that is admitted. It is a
// sliding log of the admitted requests' times, at most `limit` of them in a
// ring buffer: O(1) amortised per request (each time is written once and
// expired once). Why not GCRA: GCRA is a token bucket; with a burst of `limit`
// it admits `limit` at once and then one more every windowMs/limit, 2 × limit − 1
// in the first window; with no burst it refuses `limit` requests arriving
// together. Only a log knows when each of the last `limit` admissions leaves
// the window. Bucketed counters are exact only by refusing early.
//
// Memory is 8 bytes per request in the window; the ring starts small and
// doubles up to `limit`, so a key that sends little (the common case of a
// keyed limit) holds little.

import { checkRate, type RateLimiter } from './rate-limiter.js'

const INITIAL_CAPACITY = 8

export class SlidingWindowLimiter implements RateLimiter {
  private times: Float64Array
  private head = 0
  private size = 0
  // Units held as a block until `heldUntil` (exclusive): what `absorb` leaves
  // of another limiter's log, as if all of it had been admitted at its newest time.
  private heldCount = 0
  private heldUntil = -Infinity

  constructor (readonly limit: number, readonly windowMs: number) {
    checkRate(limit, windowMs)
    this.times = new Float64Array(Math.min(limit, INITIAL_CAPACITY))
  }

  tryAcquire (now: number): boolean {
    this.expire(now)
    if (this.size + this.heldCount >= this.limit) return false
    if (this.size === this.times.length) this.grow()
    let tail = this.head + this.size
    if (tail >= this.times.length) tail -= this.times.length
    this.times[tail] = now
    this.size++
    return true
  }

  remaining (now: number): number {
    this.expire(now)
    return this.limit - this.size - this.heldCount
  }

  msUntilMore (now: number): number {
    this.expire(now)
    if (this.size + this.heldCount === 0) return this.limit > 0 ? 0 : this.windowMs
    let next = Infinity
    if (this.size > 0) next = this.times[this.head] + this.windowMs
    if (this.heldCount > 0 && this.heldUntil < next) next = this.heldUntil
    return next - now
  }

  absorb (other: SlidingWindowLimiter, now: number): void {
    other.expire(now)
    const otherUsed = other.size + other.heldCount
    if (otherUsed === 0) return
    this.expire(now)
    // Both logs collapse into one block: the larger count, held until the later
    // of their last expiries, bounds each of them at every future instant.
    this.heldUntil = Math.max(this.lastExpiry(), other.lastExpiry())
    this.heldCount = Math.max(this.size + this.heldCount, otherUsed)
    this.size = 0
    this.head = 0
  }

  reset (): void {
    this.head = 0
    this.size = 0
    this.heldCount = 0
    this.heldUntil = -Infinity
  }

  private expire (now: number): void {
    // A time `s` counts while now < s + windowMs: the window is (now - windowMs, now].
    const edge = now - this.windowMs
    const times = this.times
    while (this.size > 0 && times[this.head] <= edge) {
      if (++this.head === times.length) this.head = 0
      this.size--
    }
    if (this.heldCount > 0 && now >= this.heldUntil) this.heldCount = 0
  }

  private lastExpiry (): number {
    let last = this.heldCount > 0 ? this.heldUntil : -Infinity
    if (this.size > 0) {
      let tail = this.head + this.size - 1
      if (tail >= this.times.length) tail -= this.times.length
      last = Math.max(last, this.times[tail] + this.windowMs)
    }
    return last
  }

  private grow (): void {
    const old = this.times
    const grown = new Float64Array(Math.min(this.limit, Math.max(1, old.length * 2)))
    for (let i = 0; i < this.size; i++) {
      let at = this.head + i
      if (at >= old.length) at -= old.length
      grown[i] = old[at]
    }
    this.times = grown
    this.head = 0
  }
}
