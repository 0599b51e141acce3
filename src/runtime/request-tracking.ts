import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which request a console.* line belongs to. AsyncLocalStorage answers that
 * exactly, but once on it taxes every promise of every request (about 6% of a
 * hello world's CPU here), so it is switched on the first time the function
 * writes with console.*. That first line is attributed when only one request
 * is in flight; later ones always are, through the storage.
 */
export class RequestTracking {
  private enabled = false
  private readonly storage = new AsyncLocalStorage<string>()
  private readonly open = new Set<string>()

  /** Runs a handler for a request; `end` must follow when it is answered. */
  run<A extends unknown[], R> (requestId: string, fn: (...args: A) => R, ...args: A): R {
    this.open.add(requestId)
    return this.enabled ? this.storage.run(requestId, fn, ...args) : fn(...args)
  }

  end (requestId: string): void {
    this.open.delete(requestId)
  }

  /** The request of the code running now, or null when it cannot be known. */
  current (): string | null {
    if (this.enabled) return this.storage.getStore() ?? null
    this.enabled = true
    if (this.open.size !== 1) return null
    for (const requestId of this.open) return requestId
    return null
  }
}
