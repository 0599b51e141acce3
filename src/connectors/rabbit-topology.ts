// The names and arguments of what the RabbitMQ connector declares for one
// queue (docs/connectors.md, "RabbitMQ"): the quorum queue itself, its
// dead-letter exchange and queue, and the per-delay queues a delayed retry or
// release waits in. Pure: the connector declares them.
import type { RabbitFeatures } from './rabbit-capabilities.js'

/** An unused delay queue goes this long after its messages would all have expired. */
export const DELAY_QUEUE_IDLE_MS = 60_000
/** The longest delay a delay queue holds (x-message-ttl is 32 bits). */
export const MAX_DELAY_MS = 2 ** 32 - 1 - DELAY_QUEUE_IDLE_MS

export interface RabbitNames {
  queue: string
  /** The dead-letter exchange (fanout) of the queue. */
  deadExchange: string
  /** The queue bound to it: the broker's own DLQ. */
  deadQueue: string
}

export function rabbitNames (queue: string): RabbitNames {
  return { queue, deadExchange: `${queue}.dlx`, deadQueue: `${queue}.dead` }
}

/** The queue a message delayed by `delayMs` (a bucket, delayBucket()) waits in before it dead-letters back to `queue`. */
export function delayQueueName (queue: string, delayMs: number): string {
  return `${queue}.delay.${delayMs}`
}

/**
 * A delay rounded up to two significant digits (1 234 → 1 300, 45 678 →
 * 46 000), so that backoff with jitter makes a few dozen delay queues per
 * decade rather than one per millisecond; never shorter than asked.
 */
export function delayBucket (delayMs: number): number {
  if (!Number.isFinite(delayMs) || delayMs <= 0) return 0
  const ms = Math.ceil(delayMs)
  if (ms < 100) return ms
  const step = 10 ** (Math.floor(Math.log10(ms)) - 1)
  return Math.min(MAX_DELAY_MS, Math.ceil(ms / step) * step)
}

/**
 * The quorum queue's arguments. Its delivery limit is one above
 * maxAttempts: the broker's count of a delivery is at most its attempt less
 * one (retries with a delay are new copies, releases are never returns), so
 * the broker stops only a message that no handler ever answered for, after
 * Roost would have dead-lettered any that failed.
 */
export function queueArguments (names: RabbitNames, maxAttempts: number, features: RabbitFeatures): Record<string, unknown> {
  const args: Record<string, unknown> = {
    'x-queue-type': 'quorum',
    'x-delivery-limit': Math.max(1, Math.floor(maxAttempts)) + 1,
    'x-dead-letter-exchange': names.deadExchange
  }
  // At-least-once dead-lettering requires reject-publish overflow; without a length limit that never refuses a publish.
  if (features.atLeastOnceDeadLettering) {
    args['x-dead-letter-strategy'] = 'at-least-once'
    args['x-overflow'] = 'reject-publish'
  }
  return args
}

/** A delay queue: each message waits `delayMs`, then dead-letters through the default exchange back to `queue`. */
export function delayQueueArguments (queue: string, delayMs: number): Record<string, unknown> {
  return {
    'x-message-ttl': delayMs,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': queue,
    'x-expires': delayMs + DELAY_QUEUE_IDLE_MS
  }
}
