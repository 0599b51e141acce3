import type { BackoffPolicy } from './backoff.js'
import { DEFAULT_BACKOFF } from './backoff.js'

/** How a queue (or a function's async-invocation queue, or a cron trigger) treats its records. */
export interface QueuePolicy {
  /** waiting + leased at most; a publish past it is refused (429). */
  maxDepth: number
  /** Counted attempts before a record is dead. Finite: a poison message must end somewhere. */
  maxAttempts: number
  backoff: BackoffPolicy
  /**
   * How long a finished (succeeded, cancelled) record is kept for its view,
   * and how long its idempotency key keeps refusing duplicates after publish.
   */
  retentionMs: number
  /** Past createdAt + maxAgeMs a record is dead ('expired') instead of delivered; undefined: no limit. */
  maxAgeMs: number | undefined
  maxBodyBytes: number
  /** A stored response body is cut there. */
  maxResponseBytes: number
  /** The Retry-After given with a refusal for a full queue. */
  fullRetryAfterMs: number
}

export const DEFAULT_QUEUE_POLICY: Readonly<QueuePolicy> = Object.freeze({
  maxDepth: 10_000,
  maxAttempts: 5,
  backoff: DEFAULT_BACKOFF,
  retentionMs: 24 * 3600_000,
  maxAgeMs: undefined,
  maxBodyBytes: 256 * 1024,
  maxResponseBytes: 64 * 1024,
  fullRetryAfterMs: 1000
})

/** The queue policy with the caller's values over the defaults; a value out of range is a caller's bug. */
export function resolveQueuePolicy (given: Partial<QueuePolicy> = {}): QueuePolicy {
  const policy: QueuePolicy = { ...DEFAULT_QUEUE_POLICY, ...withoutUndefined(given) }
  policy.maxAgeMs = given.maxAgeMs
  requireInteger('maxDepth', policy.maxDepth, 1)
  requireInteger('maxAttempts', policy.maxAttempts, 1)
  requireInteger('backoff.initialMs', policy.backoff.initialMs, 0)
  requireInteger('backoff.maxMs', policy.backoff.maxMs, policy.backoff.initialMs)
  requireInteger('retentionMs', policy.retentionMs, 0)
  if (policy.maxAgeMs !== undefined) requireInteger('maxAgeMs', policy.maxAgeMs, 1)
  requireInteger('maxBodyBytes', policy.maxBodyBytes, 0)
  requireInteger('maxResponseBytes', policy.maxResponseBytes, 0)
  requireInteger('fullRetryAfterMs', policy.fullRetryAfterMs, 1)
  return policy
}

function withoutUndefined<T extends object> (value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

function requireInteger (name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`queue policy ${name} must be a whole number of at least ${min}, got ${String(value)}`)
  }
}
