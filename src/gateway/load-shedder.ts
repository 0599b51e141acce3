// The gateway protecting itself: when its event loop falls behind, every
// request it takes in waits longer than the one before, until all of them
// time out together. Shedding a share of new requests early, with 503 and
// Retry-After, keeps the rest answerable; /healthz, /metrics and the API
// (another thread) are never shed.

export interface LoadShedderOptions {
  /** Event-loop lag (ms) above which shedding starts. Default 100. */
  lagTargetMs?: number
  /** Weight of the newest lag sample in the moving average. Default 0.3. */
  smoothing?: number
  /** Most of the new requests ever shed; the rest still probe whether the overload passed. Default 0.9. */
  maxShare?: number
}

/**
 * Pure: fed the lag of each sweep (how late a timer fired), it keeps a moving
 * average and sheds a share of new requests that grows with how far the
 * average is over the target (0 at the target, `maxShare` at twice it).
 * Which requests are shed is decided by a counter, not at random, so the share
 * is exact over any 10 requests and tests need no seeded randomness.
 */
export class LoadShedder {
  private readonly lagTargetMs: number
  private readonly smoothing: number
  private readonly maxShare: number
  private averageLagMs = 0
  /** Of every 100 new requests, how many are shed now. */
  private shedPerHundred = 0
  private counter = 0
  /** Requests shed since the last `takeShed`. */
  private shed = 0

  constructor (options: LoadShedderOptions = {}) {
    this.lagTargetMs = options.lagTargetMs ?? 100
    this.smoothing = options.smoothing ?? 0.3
    this.maxShare = options.maxShare ?? 0.9
  }

  /** One lag sample: how many ms after its due time a periodic timer ran. */
  observeLag (lagMs: number): void {
    const lag = Math.max(0, lagMs)
    this.averageLagMs += this.smoothing * (lag - this.averageLagMs)
    const over = (this.averageLagMs - this.lagTargetMs) / this.lagTargetMs
    const share = over <= 0 ? 0 : Math.min(this.maxShare, over * this.maxShare)
    this.shedPerHundred = Math.round(share * 100)
  }

  get overloaded (): boolean {
    return this.shedPerHundred > 0
  }

  get lagMs (): number {
    return this.averageLagMs
  }

  /** Whether the next new request is shed. */
  shouldShed (): boolean {
    if (this.shedPerHundred === 0) return false
    const slot = this.counter
    this.counter = slot === 99 ? 0 : slot + 1
    // Spreads the shed slots evenly over the hundred: slot s is shed when it crosses a multiple.
    const shed = Math.floor((slot + 1) * this.shedPerHundred / 100) > Math.floor(slot * this.shedPerHundred / 100)
    if (shed) this.shed++
    return shed
  }

  /** Requests shed since the last call (for metrics). */
  takeShed (): number {
    const shed = this.shed
    this.shed = 0
    return shed
  }
}
