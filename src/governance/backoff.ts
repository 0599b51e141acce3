// Waits that grow with each attempt, randomised so that callers (or
// breakers) that failed together do not come back together. `random` is
// injected (Math.random in production) so tests can pin it.

/** Share by which a breaker's open time may be shortened at random from its second consecutive trip. */
export const RECOVERY_JITTER = 0.2

/**
 * Full jitter (Envoy's and AWS's): a wait drawn uniformly from
 * [0, min(capMs, baseMs × 2^attempt)), `attempt` counting the retries already
 * made (0 for the first retry).
 */
export function fullJitterBackoffMs (attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return random() * Math.min(capMs, baseMs * 2 ** attempt)
}

/**
 * How long a breaker stays open after its `trip`-th consecutive trip: exactly
 * `baseMs` the first time (OpenSergo's and Sentinel's recoveryTimeout), then
 * doubled per trip up to `capMs`, less up to RECOVERY_JITTER of it at random.
 * Each trip's longest open time is still shorter than the next one's shortest
 * until the cap.
 */
export function recoveryBackoffMs (trip: number, baseMs: number, capMs: number, random: () => number): number {
  if (trip <= 1) return Math.min(baseMs, capMs)
  const nominal = Math.min(capMs, baseMs * 2 ** (trip - 1))
  return nominal * (1 - RECOVERY_JITTER * random())
}
