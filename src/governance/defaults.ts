// What a rule means where it says nothing. One table, read by the compiler and
// shown in the JSON Schema's `default`s, so the documentation cannot drift.

import type { RejectCause, RetryPolicy } from './policy.js'

export const GOVERNANCE_DEFAULTS = {
  rateLimit: {
    // Exact to the request: no window of the length, wherever it starts, admits more than the limit.
    algorithm: 'sliding-window',
    window: '1s',
    burst: 0,
    key: 'function',
    maxKeys: 10_000
  },
  // Sentinel's maxQueueingTimeMs.
  throttle: { maxQueueingMs: 500, maxKeys: 10_000 },
  breaker: {
    trigger: 'error-ratio',
    windowMs: 10_000,
    buckets: 10,
    // Sentinel's and OpenSergo's minRequestAmount default.
    minRequests: 5,
    recoveryMs: 5_000,
    // The open time doubles on each trip in a row up to this (or the recovery time, if that is longer).
    maxRecoveryMs: 60_000,
    probes: 3,
    // Traffic comes back 10% more each second after closing, not all at once.
    rampPercent: 10,
    rampIntervalMs: 1_000
  },
  retry: { attempts: 3, baseMs: 25, capMs: 1_000, budgetRatio: 0.2, budgetMinPerSecond: 3 } satisfies RetryPolicy,
  /** The status of a provided response that names none. */
  fallbackStatus: { 'rate-limited': 429, 'concurrency-limited': 429, 'breaker-open': 503, overloaded: 503, 'timed-out': 504 } satisfies Record<RejectCause, number>,
  /** An HttpRequestFallbackAction without responseStatusCode answers as Sentinel's block page does. */
  opensergoFallbackStatus: 429
} as const

/** Bounds of what a rule may ask for; past them the gateway would spend memory or time for nothing. */
export const GOVERNANCE_BOUNDS = {
  maxKeys: 1_000_000,
  /** Keys all keyed limits of the gateway track at once (about 500 bytes each), and those of one namespace's functions (key-budget.ts). */
  trackedKeys: 2_000_000,
  trackedKeysPerNamespace: 500_000,
  bodyBytes: 64 * 1024,
  headers: 20,
  headerValueLength: 4096,
  regexLength: 256,
  attempts: 10
} as const
