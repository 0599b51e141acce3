import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which request a console.* line belongs to, across every await of its
 * handler. AsyncLocalStorage answers that exactly; on node 20 it runs a hook
 * for every async resource the process creates. The instance host keeps it on
 * from the start: over the framed socket a request creates no async resource
 * of its own, and its cost did not show (bench/runtime-frames.ts). node:http
 * creates several per request, where it costs 10-20% of a hello world, so the
 * HTTP mode (`lazy`) switches it on at the first console line: lines of the
 * synchronous part of a handler are always attributed; after an await, a
 * request already in flight then is attributed if it is the only one.
 */
export class RequestTracking {
  private enabled: boolean
  private readonly storage = new AsyncLocalStorage<string>()
  /** The request whose handler runs synchronously right now. */
  private sync: string | null = null
  /** Requests started before tracking was on and not ended yet. */
  private readonly untracked = new Set<string>()

  constructor (options: { lazy?: boolean } = {}) {
    this.enabled = options.lazy !== true
  }

  /** Runs a handler (or a part of it) for a request; `end` follows once it is answered. */
  run<A extends unknown[], R> (requestId: string, fn: (...args: A) => R, ...args: A): R {
    if (this.enabled) return this.storage.run(requestId, fn, ...args)
    this.untracked.add(requestId)
    const previous = this.sync
    this.sync = requestId
    try {
      return fn(...args)
    } finally {
      this.sync = previous
    }
  }

  end (requestId: string): void {
    if (this.untracked.size > 0) this.untracked.delete(requestId)
  }

  /** The request of the code running now, or null when it is none (or cannot be known). */
  current (): string | null {
    if (this.sync !== null) return this.sync
    this.enabled = true
    const store = this.storage.getStore()
    if (store !== undefined) return store
    if (this.untracked.size === 1) for (const requestId of this.untracked) return requestId
    return null
  }
}
