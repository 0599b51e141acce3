// OpenSergo's ThrottlingStrategy (Sentinel's ThrottlingController, a leaky
// bucket used for shaping): requests leave `intervalMs` apart; one that
// arrives early waits its turn, and is refused when its turn is more than
// `maxQueueingMs` away. With `maxQueueingMs` 0 it only enforces the interval
// (what comes early is refused); with `intervalMs` 0 everything passes at once.
// The caller does the waiting (a timer per queued request): this is the clock.

import type { KeyedState } from './keyed-limiter.js'

/** What `Throttle.acquire` returns for a request that may not even queue. */
export const THROTTLE_REFUSED = -1

export class Throttle implements KeyedState {
  // When the last request admitted leaves (or left): the next one leaves `intervalMs` later.
  private latest = -Infinity

  constructor (readonly intervalMs: number, readonly maxQueueingMs: number) {
    if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`a throttle interval must be a number of ms >= 0, not ${intervalMs}`)
    if (!Number.isFinite(maxQueueingMs) || maxQueueingMs < 0) throw new RangeError(`a throttle queueing time must be a number of ms >= 0, not ${maxQueueingMs}`)
  }

  /** Ms the request must wait before it goes (0: at once), or THROTTLE_REFUSED; a request given a wait holds its turn. */
  acquire (now: number): number {
    const expected = this.latest + this.intervalMs
    if (expected <= now) {
      this.latest = now
      return 0
    }
    const wait = expected - now
    if (wait > this.maxQueueingMs) return THROTTLE_REFUSED
    this.latest = expected
    return wait
  }

  /** Ms until a request would be accepted (at once or into the queue): a refused one's Retry-After. */
  msUntilMore (now: number): number {
    return Math.max(0, this.latest + this.intervalMs - this.maxQueueingMs - now)
  }

  /** Requests admitted that have not left yet, at most (for describe): the queue, counted at the pacing interval. */
  queued (now: number): number {
    if (this.latest <= now) return 0
    return this.intervalMs > 0 ? Math.ceil((this.latest - now) / this.intervalMs) : 0
  }

  absorb (other: Throttle): void {
    if (other.latest > this.latest) this.latest = other.latest
  }

  reset (): void {
    this.latest = -Infinity
  }
}
