// Wake-ups for fetches waiting on the embedded queue: a publish or a
// settlement through any connector of this process on the same EventStore
// wakes the fetches waiting on that queue at once, instead of at their next poll.
import type { EventStore } from '../events/index.js'

export class EmbeddedWakeups {
  private readonly waiters = new Map<string, Set<() => void>>()

  /** Resolves after `ms`, or sooner on a wake of the queue or the signal's abort. */
  async wait (queue: string, ms: number, signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      let waiters = this.waiters.get(queue)
      if (waiters === undefined) {
        waiters = new Set()
        this.waiters.set(queue, waiters)
      }
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        waiters.delete(done)
        if (waiters.size === 0 && this.waiters.get(queue) === waiters) this.waiters.delete(queue)
        resolve()
      }
      const timer = setTimeout(done, ms)
      waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  wake (queue: string): void {
    const waiters = this.waiters.get(queue)
    if (waiters === undefined) return
    for (const done of waiters) done()
  }
}

const byStore = new WeakMap<EventStore, EmbeddedWakeups>()

/** The wake-ups of every connector of this process on `events`. */
export function wakeupsOf (events: EventStore): EmbeddedWakeups {
  let wakeups = byStore.get(events)
  if (wakeups === undefined) {
    wakeups = new EmbeddedWakeups()
    byStore.set(events, wakeups)
  }
  return wakeups
}

export function embeddedQueueKey (namespace: string, queue: string): string {
  return `${namespace}\u0000${queue}`
}
