import type { EventStore, QueuePolicy } from '../events/index.js'

// Every function has an internal queue of its async invocations, async.<name>
// in its namespace; publishing to an async.* queue from outside is refused, so
// only the gateway's async calls land there. Its policy is Lambda's for async
// calls: two retries with backoff after the first attempt, and a maximum event age.

const PREFIX = 'async.'

export const ASYNC_QUEUE_POLICY: Readonly<Partial<QueuePolicy>> = Object.freeze({
  maxAttempts: 3,
  // Lambda waits a minute, then two; a second, then two at most, keeps a retried call near its caller.
  backoff: { initialMs: 1000, maxMs: 60_000 },
  maxAgeMs: 6 * 3600_000,
  // The body is the stored request: 1 MiB of request as base64, and its headers.
  maxBodyBytes: 2 * 1024 * 1024,
  maxResponseBytes: 1024 * 1024
})

export function asyncQueueName (fn: string): string {
  return PREFIX + fn
}

/** The function an async queue belongs to, or undefined for any other queue. */
export function functionOfAsyncQueue (queue: string): string | undefined {
  return queue.startsWith(PREFIX) ? queue.slice(PREFIX.length) : undefined
}

export function isAsyncQueue (queue: string): boolean {
  return queue.startsWith(PREFIX)
}

/** Declares the function's async queue (if it is not yet) and returns its name. */
export function declareAsyncQueue (events: EventStore, namespace: string, fn: string): string {
  const queue = asyncQueueName(fn)
  if (events.queuePolicy(namespace, queue) === undefined) events.declareQueue(namespace, queue, ASYNC_QUEUE_POLICY)
  return queue
}
