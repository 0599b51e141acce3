// Requests in flight across all of a function's instances (OpenSergo's
// ConcurrencyLimitStrategy), beside each instance's own limit. The gateway is
// the one place every request passes, so a counter is the whole algorithm; it
// needs no clock.

export class ConcurrencyLimiter {
  private current = 0

  constructor (readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`a concurrency limit must be a whole number >= 0, not ${limit}`)
  }

  get inFlight (): number {
    return this.current
  }

  get remaining (): number {
    return Math.max(0, this.limit - this.current)
  }

  /** Takes a slot if one is free; each true must be followed by exactly one `release`. */
  tryAcquire (): boolean {
    if (this.current >= this.limit) return false
    this.current++
    return true
  }

  release (): void {
    // A release without an acquire must not open a slot that was never taken.
    if (this.current > 0) this.current--
  }
}
