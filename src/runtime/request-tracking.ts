import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which request a console.* line belongs to, across every await of its
 * handler, from the first line of the first request on.
 */
export class RequestTracking {
  private readonly storage = new AsyncLocalStorage<string>()

  /** Runs a handler for a request. */
  run<A extends unknown[], R> (requestId: string, fn: (...args: A) => R, ...args: A): R {
    return this.storage.run(requestId, fn, ...args)
  }

  /** The request of the code running now, or null outside any. */
  current (): string | null {
    return this.storage.getStore() ?? null
  }
}
