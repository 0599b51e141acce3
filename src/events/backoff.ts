// Retry delays: exponential with full jitter and a cap (the AWS "full jitter"
// scheme). Full jitter spreads the retries of a burst of failures over the
// whole window instead of stacking them at its end, which is what bursts of
// failed queue messages need. Pure, on an injected random source.

export interface BackoffPolicy {
  /** The ceiling of the first retry's delay. */
  initialMs: number
  /** No delay is ever longer than this. */
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 300_000 }

/** A number in [0, 1), as Math.random. */
export type RandomSource = () => number

/**
 * The ceiling of the delay before the retry that follows `failures` counted
 * attempts: initialMs · 2^(failures − 1), at most maxMs.
 */
export function backoffCeiling (failures: number, policy: BackoffPolicy): number {
  if (failures < 1) return 0
  // 2^52 already exceeds any cap in ms; a larger exponent would only lose precision.
  const growth = 2 ** Math.min(failures - 1, 52)
  return Math.min(policy.maxMs, policy.initialMs * growth)
}

/** The delay before the next retry: uniform in [0, ceiling), whole milliseconds. */
export function backoffDelay (failures: number, policy: BackoffPolicy, random: RandomSource): number {
  const ceiling = backoffCeiling(failures, policy)
  return Math.floor(random() * ceiling)
}
