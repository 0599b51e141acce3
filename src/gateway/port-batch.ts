import type { MessagePort } from 'node:worker_threads'

/**
 * The messages a port posts in one turn, sent as one array once the turn's
 * synchronous work is done (a microtask: no later than a message posted alone
 * would have gone). The delivery port answers with it: one read of an
 * instance's socket may end many deliveries, and each postMessage
 * serialises, locks the port and wakes the other thread (together with its
 * receiving side, a sixth of the platform thread in a drain).
 */
export class PortBatch<T> {
  private messages: T[] = []
  private transfers: ArrayBuffer[] = []
  private scheduled = false

  constructor (private readonly port: MessagePort) {}

  /** `moved`: a buffer the message holds that goes to the other thread rather than being copied. */
  post (message: T, moved?: ArrayBuffer): void {
    this.messages.push(message)
    if (moved !== undefined) this.transfers.push(moved)
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(this.flush)
  }

  /** Sends what is waiting now (before the port closes). */
  readonly flush = (): void => {
    this.scheduled = false
    if (this.messages.length === 0) return
    const messages = this.messages
    const transfers = this.transfers
    this.messages = []
    this.transfers = []
    this.port.postMessage(messages, transfers)
  }
}
