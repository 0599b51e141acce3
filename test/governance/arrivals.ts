// Seeded arrival patterns for the limiters' property checks, and the measure
// they are held to: the most admissions in any half-open interval [a, a + w).

/** mulberry32: a small seeded generator, so a failing pattern can be replayed. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `count` non-decreasing arrival times in whole ms: bursts in the same ms,
 * short gaps, and pauses long enough to refill a window, so that every edge
 * case of a window is crossed many times.
 */
export function arrivals (seed: number, count: number, options: { fractional?: boolean } = {}): number[] {
  const random = seededRandom(seed)
  const times: number[] = []
  let now = Math.floor(random() * 1000)
  for (let i = 0; i < count; i++) {
    const roll = random()
    if (roll < 0.35) now += 0
    else if (roll < 0.85) now += 1 + Math.floor(random() * 40)
    else if (roll < 0.97) now += 50 + Math.floor(random() * 300)
    else now += 500 + Math.floor(random() * 1500)
    times.push(options.fractional === true ? now + Math.floor(random() * 1000) / 1000 : now)
  }
  if (options.fractional === true) times.sort((a, b) => a - b)
  return times
}

/** The most of `times` (sorted) in any interval [a, a + windowMs). */
export function maxInAnyWindow (times: readonly number[], windowMs: number): number {
  let most = 0
  let end = 0
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && times[end] < times[start] + windowMs) end++
    most = Math.max(most, end - start)
  }
  return most
}

/** The times a limiter admits out of `times`. */
export function admitted (times: readonly number[], tryAcquire: (now: number) => boolean): number[] {
  return times.filter((now) => tryAcquire(now))
}
