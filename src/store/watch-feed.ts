import type { WatchEvent, WatchListener } from './types.js'

export type ListenerErrorHandler = (error: unknown, event: WatchEvent) => void

// Holds the watch events of the open transaction until it commits, then hands
// them to every listener in commit order. Events of a rolled-back transaction
// (or of a rolled-back nested part of one) are dropped without being seen.
export class WatchFeed {
  private readonly listeners = new Set<WatchListener>()
  private pending: WatchEvent[] = [] // written, not yet committed
  private readonly committed: WatchEvent[] = [] // committed, not yet delivered
  private delivering = false

  constructor (private readonly onListenerError: ListenerErrorHandler) {}

  subscribe (listener: WatchListener): () => void {
    // a wrapper makes each subscription distinct, even for the same function twice
    const entry: WatchListener = (event) => listener(event)
    this.listeners.add(entry)
    return () => { this.listeners.delete(entry) }
  }

  clear (): void {
    this.listeners.clear()
    this.pending = []
    this.committed.length = 0
  }

  // Called inside a transaction for each write.
  push (event: WatchEvent): void {
    this.pending.push(deepFreeze(event))
  }

  // A position to roll back to when a nested transaction fails.
  mark (): number {
    return this.pending.length
  }

  rollbackTo (mark: number): void {
    this.pending.length = mark
  }

  // Called after the outermost transaction committed.
  commit (): void {
    this.committed.push(...this.pending)
    this.pending = []
    this.deliver()
  }

  // A listener may write to the store; that write commits and calls commit()
  // again while we are still delivering. Its events then queue behind the ones
  // in hand, so every listener sees all events in resourceVersion order.
  private deliver (): void {
    if (this.delivering) return
    this.delivering = true
    try {
      let event = this.committed.shift()
      while (event !== undefined) {
        this.deliverOne(event)
        event = this.committed.shift()
      }
    } finally {
      this.delivering = false
    }
  }

  private deliverOne (event: WatchEvent): void {
    for (const listener of [...this.listeners]) {
      if (!this.listeners.has(listener)) continue // unsubscribed by an earlier listener
      try {
        listener(event)
      } catch (error) {
        this.reportListenerError(error, event)
      }
    }
  }

  private reportListenerError (error: unknown, event: WatchEvent): void {
    try {
      this.onListenerError(error, event)
    } catch {
      // the error handler itself failed: nothing sensible is left to tell
    }
  }
}

// All listeners receive the same event object: freezing it keeps one listener
// from changing what the next one sees.
function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

export function warnListenerError (error: unknown, event: WatchEvent): void {
  const detail = error instanceof Error ? error.stack ?? error.message : String(error)
  process.emitWarning(`a store watch listener threw on ${event.type} ${event.kind} ${event.namespace}/${event.name}: ${detail}`, 'RoostStoreWarning')
}
