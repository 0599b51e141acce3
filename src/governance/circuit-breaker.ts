// A circuit breaker per function (or route): closed, it counts outcomes over
// a time-based sliding window of buckets and trips on an error ratio, a slow
// call ratio or an error count, once the window holds `minRequests` calls.
// Thresholds are reached at `>=` (Sentinel Go and resilience4j; Sentinel Java
// uses `>`), and a ratio needs at least one error or slow call, so a threshold
// of 0 does not trip a healthy function. Open, it refuses everything. After the
// open time (recoveryMs, doubled per consecutive trip with jitter, up to
// maxRecoveryMs) it goes half-open on the next look: exactly `probes` probe
// calls, never more than that many at once (Sentinel Go admits any number, Java
// one). All succeed: closed, with traffic ramped back from `rampPercent` by
// `rampPercent` every `rampIntervalMs`, so a function that just recovered is not
// flattened again. Any probe fails: open again, for longer. The backoff resets
// once the ramp is done (at once without a ramp), so a function that fails
// again at 30% of its traffic does not start over at the shortest open time.
//
// Transitions are lazy (no timers): time moves the breaker on when it is asked
// (`tryAcquire`, `state`, `snapshot`). Each admitted call gets a permit, the
// breaker's generation, and its outcome is counted only if the breaker is still
// in that generation: a call admitted before a trip that fails afterwards is
// not a probe, and a slow call from before the trip does not count after it.

import { recoveryBackoffMs } from './backoff.js'
import { BucketWindow } from './bucket-window.js'
import type { BreakerPolicy } from './policy.js'

export type BreakerState = 'closed' | 'open' | 'half-open'

/**
 * How an admitted call ended, as the gateway classifies it. `failure`: a 5xx
 * from the handler, a timeout, a crashed instance. `ignored`: what says
 * nothing of the function's health (a 4xx, the gateway's own 429 or 503, a
 * caller that went away, a call refused by a later filter); an ignored probe
 * gives its place back.
 */
export type CallOutcome = 'success' | 'failure' | 'ignored'

/** What `tryAcquire` returns for a refused call; any other value is a permit. */
export const BREAKER_REFUSED = 0

export interface BreakerTransition {
  breaker: string
  from: BreakerState
  to: BreakerState
  at: number
  /** e.g. "error ratio 0.62 >= 0.5 over 21 calls in 10s". */
  reason: string
  /** When opening: how long it stays open. */
  openMs?: number
}

export interface BreakerSnapshot {
  name: string
  state: BreakerState
  /** Why it is in this state: the reason of the last transition. */
  reason: string
  since: number
  window: { calls: number, errors: number, slow: number, windowMs: number }
  /** Trips since the breaker was last fully closed. */
  consecutiveTrips: number
  /** The open time of the current or the last trip; 0 before any. */
  openMs: number
  /** When open: when it goes half-open. */
  halfOpenAt?: number
  probes: { inFlight: number, succeeded: number, of: number }
  /** While ramping after closing: the share of requests admitted now, in percent; otherwise null. */
  rampPercent: number | null
}

export interface BreakerOptions {
  /** Jitter of the open time; Math.random by default. */
  random?: () => number
  /** Called on every state change (for the event and the metric). */
  onTransition?: (transition: BreakerTransition) => void
  /** When the breaker is made (the `since` of its first closed state). */
  now?: number
}

const CALLS = 0
const ERRORS = 1
const SLOW = 2

export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private generation = 1
  private since: number
  private reason = 'no trip yet'
  private readonly window: BucketWindow
  private readonly countsSlow: boolean
  private readonly probes: number
  private readonly ramps: boolean
  private readonly random: () => number
  private readonly onTransition: ((transition: BreakerTransition) => void) | undefined
  private trips = 0
  private openMs = 0
  private openUntil = 0
  private probesInFlight = 0
  private probesSucceeded = 0
  private ramping = false
  private rampStart = 0
  private rampShare = 100
  // Bresenham-style credit: each request adds the share, one passes per 100, so a ramp's admissions are exact.
  private rampCredit = 0

  constructor (readonly policy: BreakerPolicy, options: BreakerOptions = {}) {
    checkPolicy(policy)
    this.window = new BucketWindow(policy.buckets, policy.windowMs / policy.buckets, 3)
    this.countsSlow = policy.trigger === 'slow-ratio' || policy.slowMs > 0
    // At least one probe: with none, half-open could never close.
    this.probes = Math.max(1, Math.floor(policy.probes))
    this.ramps = policy.rampPercent > 0 && policy.rampPercent < 100 && policy.rampIntervalMs > 0
    this.random = options.random ?? Math.random
    this.onTransition = options.onTransition
    this.since = options.now ?? 0
  }

  /** A permit for the call, or BREAKER_REFUSED; every permit must come back through `record`. */
  tryAcquire (now: number): number {
    if (this.current === 'closed' && !this.ramping) return this.generation
    this.advance(now)
    if (this.current === 'closed') return !this.ramping || this.admitRamp() ? this.generation : BREAKER_REFUSED
    if (this.current === 'open') return BREAKER_REFUSED
    if (this.probesInFlight + this.probesSucceeded >= this.probes) return BREAKER_REFUSED
    this.probesInFlight++
    return this.generation
  }

  /**
   * The outcome of a call `tryAcquire` admitted. `durationMs` is the call's own
   * time, which the caller measures without the wait for a cold start.
   */
  record (permit: number, now: number, outcome: CallOutcome, durationMs: number): void {
    if (permit !== this.generation) return
    if (this.current === 'half-open') {
      this.recordProbe(now, outcome, durationMs)
      return
    }
    if (outcome === 'ignored') return
    const window = this.window
    window.add(now, CALLS)
    if (outcome === 'failure') window.add(now, ERRORS)
    if (this.countsSlow && durationMs > this.policy.slowMs) window.add(now, SLOW)
    const calls = window.sum(now, CALLS)
    if (calls < this.policy.minRequests) return
    const reason = this.tripReason(now, calls)
    if (reason !== null) this.open(now, reason)
  }

  state (now: number): BreakerState {
    this.advance(now)
    return this.current
  }

  /** Ms until the breaker may admit again: the open time left; 0 when it is not open. */
  retryInMs (now: number): number {
    this.advance(now)
    return this.current === 'open' ? this.openUntil - now : 0
  }

  snapshot (now: number): BreakerSnapshot {
    this.advance(now)
    const snapshot: BreakerSnapshot = {
      name: this.policy.name,
      state: this.current,
      reason: this.reason,
      since: this.since,
      window: {
        calls: this.window.sum(now, CALLS),
        errors: this.window.sum(now, ERRORS),
        slow: this.window.sum(now, SLOW),
        windowMs: this.policy.windowMs
      },
      consecutiveTrips: this.trips,
      openMs: this.openMs,
      probes: { inFlight: this.probesInFlight, succeeded: this.probesSucceeded, of: this.probes },
      rampPercent: this.ramping ? this.rampShare : null
    }
    if (this.current === 'open') snapshot.halfOpenAt = this.openUntil
    return snapshot
  }

  private tripReason (now: number, calls: number): string | null {
    const { trigger, threshold, slowMs } = this.policy
    // Checked on every call: the reason's text is only made when the breaker trips.
    if (trigger === 'slow-ratio') {
      const slow = this.window.sum(now, SLOW)
      // Compared as a quotient: threshold × calls rounds (0.1 × 30 is 3.0000000000000004).
      if (slow === 0 || slow / calls < threshold) return null
      return `slow-call ratio ${ratioText(slow / calls, threshold)} >= ${threshold} (calls over ${durationText(slowMs)}) ${this.overText(calls)}`
    }
    const errors = this.window.sum(now, ERRORS)
    if (trigger === 'error-count') {
      if (errors === 0 || errors < threshold) return null
      return `${errors} errors >= ${threshold} ${this.overText(calls)}`
    }
    if (errors === 0 || errors / calls < threshold) return null
    return `error ratio ${ratioText(errors / calls, threshold)} >= ${threshold} ${this.overText(calls)}`
  }

  private overText (calls: number): string {
    return `over ${calls} calls in ${durationText(this.policy.windowMs)}`
  }


  private recordProbe (now: number, outcome: CallOutcome, durationMs: number): void {
    this.probesInFlight--
    if (outcome === 'ignored') return
    const slow = this.policy.trigger === 'slow-ratio' && durationMs > this.policy.slowMs
    if (outcome === 'failure' || slow) {
      const what = outcome === 'failure' ? 'failed' : `was slow (${durationText(durationMs)} > ${durationText(this.policy.slowMs)})`
      this.open(now, `probe ${what} after ${this.probesSucceeded} of ${this.probes} succeeded`)
      return
    }
    if (++this.probesSucceeded >= this.probes) this.close(now)
  }

  private open (now: number, reason: string): void {
    this.trips++
    this.openMs = recoveryBackoffMs(this.trips, this.policy.recoveryMs, this.policy.maxRecoveryMs, this.random)
    this.openUntil = now + this.openMs
    this.ramping = false
    this.transition('open', now, reason)
  }

  private close (now: number): void {
    this.window.clear()
    const { rampPercent, rampIntervalMs } = this.policy
    let reason = `${this.probes} of ${this.probes} probes succeeded`
    if (this.ramps) {
      this.ramping = true
      this.rampStart = now
      this.rampShare = rampPercent
      // The first request after closing passes; then one in every 100 / share.
      this.rampCredit = 100 - rampPercent
      reason += `; ramping up from ${rampPercent}% by ${rampPercent}% every ${durationText(rampIntervalMs)}`
    } else {
      this.ramping = false
      this.trips = 0
    }
    this.transition('closed', now, reason)
  }

  private advance (now: number): void {
    if (this.current === 'open') {
      if (now < this.openUntil) return
      this.probesInFlight = 0
      this.probesSucceeded = 0
      this.transition('half-open', now, `open for ${durationText(this.openMs)}; admitting ${this.probes} probe${this.probes === 1 ? '' : 's'}`)
    } else if (this.current === 'closed' && this.ramping) {
      const steps = Math.max(0, Math.floor((now - this.rampStart) / this.policy.rampIntervalMs))
      const share = Math.min(100, this.policy.rampPercent * (steps + 1))
      this.rampShare = share
      if (share >= 100) {
        this.ramping = false
        this.trips = 0
      }
    }
  }

  private admitRamp (): boolean {
    this.rampCredit += this.rampShare
    if (this.rampCredit < 100) return false
    this.rampCredit -= 100
    return true
  }

  private transition (to: BreakerState, now: number, reason: string): void {
    const from = this.current
    this.current = to
    this.generation++
    this.since = now
    this.reason = reason
    if (this.onTransition === undefined) return
    const transition: BreakerTransition = { breaker: this.policy.name, from, to, at: now, reason }
    if (to === 'open') transition.openMs = this.openMs
    this.onTransition(transition)
  }
}

function checkPolicy (policy: BreakerPolicy): void {
  const { windowMs, buckets, minRequests, threshold, recoveryMs, maxRecoveryMs } = policy
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`a breaker window must be a positive number of ms, not ${windowMs}`)
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`a breaker window needs a whole number of buckets >= 1, not ${buckets}`)
  if (!(minRequests >= 0)) throw new RangeError(`a breaker's minimum requests must be >= 0, not ${minRequests}`)
  if (!(threshold >= 0)) throw new RangeError(`a breaker threshold must be >= 0, not ${threshold}`)
  if (!Number.isFinite(recoveryMs) || recoveryMs < 0) throw new RangeError(`a breaker recovery time must be a number of ms >= 0, not ${recoveryMs}`)
  if (!(maxRecoveryMs >= 0)) throw new RangeError(`a breaker's longest recovery time must be >= 0 ms, not ${maxRecoveryMs}`)
}

/** 10000 → "10s", 1500 → "1.5s", 500 → "500ms". */
function durationText (ms: number): string {
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`
  return `${Math.round(ms)}ms`
}

/** Two decimals, or four when two would round it below the threshold it reached. */
function ratioText (ratio: number, threshold: number): string {
  const short = Math.round(ratio * 100) / 100
  return String(short >= threshold ? short : Math.round(ratio * 10000) / 10000)
}
