import type { Clock } from './clock.js'

export const LOG_LINES_PER_SECOND = 200
export const LOG_LINES_BURST = 1000
/** Lines dropped are told at most this often. */
export const DROPPED_REPORT_MS = 1000

/** Tokens refilled at `ratePerSecond` up to `burst`, on the injected clock. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor (private readonly ratePerSecond: number, private readonly burst: number, private readonly clock: Clock) {
    this.tokens = burst
    this.last = clock.now()
  }

  /** Takes up to `wanted` tokens; returns how many were granted. */
  take (wanted: number): number {
    const now = this.clock.now()
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerSecond / 1000)
    this.last = now
    const granted = Math.min(wanted, Math.floor(this.tokens))
    this.tokens -= granted
    return granted
  }
}

/**
 * The log budget of one instance, shared by its stdout, stderr and `logs`
 * messages: lines past the budget are counted, and the count is told once
 * per `DROPPED_REPORT_MS` through `onDropped` instead of each line.
 */
export class LogRateLimit {
  private readonly bucket: TokenBucket
  private dropped = 0
  private timer: unknown = null

  constructor (private readonly onDropped: (count: number) => void, private readonly clock: Clock, ratePerSecond = LOG_LINES_PER_SECOND, burst = LOG_LINES_BURST) {
    this.bucket = new TokenBucket(ratePerSecond, burst, clock)
  }

  /** How many of `count` lines may pass now; the rest count as dropped. `alsoDropped`: lines the instance dropped itself. */
  admit (count: number, alsoDropped = 0): number {
    const granted = this.bucket.take(count)
    this.drop(count - granted + alsoDropped)
    return granted
  }

  /** Tells what is still counted, at once (the instance ended). */
  flush (): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    this.report()
  }

  private drop (count: number): void {
    if (count <= 0) return
    this.dropped += count
    if (this.timer !== null) return
    this.timer = this.clock.setTimeout(() => {
      this.timer = null
      this.report()
    }, DROPPED_REPORT_MS)
  }

  private report (): void {
    const dropped = this.dropped
    if (dropped === 0) return
    this.dropped = 0
    this.onDropped(dropped)
  }
}
