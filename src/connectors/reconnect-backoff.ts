// The wait before a connector tries its broker again, for clients that leave
// the schedule to their caller (node-redis's reconnectStrategy asks for it).
// Exponential and capped, with half of each wait random ("equal jitter") so
// that the Roost processes that lost one broker do not all come back at once.
// Pure: the random source is injected.

export interface BackoffPolicy {
  /** The wait before the first attempt after a loss. */
  initialMs: number
  /** No wait is longer. */
  maxMs: number
}

export const RECONNECT_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 100, maxMs: 10_000 })

/** The wait before reconnect attempt `attempt` (0 for the first after the connection was lost). */
export function reconnectDelay (attempt: number, random: () => number = Math.random, policy: BackoffPolicy = RECONNECT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
