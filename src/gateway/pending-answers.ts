import { IdTable } from '../wire/index.js'

/**
 * Questions sent to the other side of a thread boundary, matched with their
 * answers by id. An unanswered question resolves to the fallback after the
 * timeout, so a caller (a scrape of /metrics) never hangs and never rejects.
 */
export class PendingAnswers<T> {
  private readonly waiting = new IdTable<(value: T) => void>()
  private sequence = 0

  constructor (private readonly timeoutMs: number, private readonly fallback: T) {}

  /** Calls `send` with a new id and resolves with the answer given for it, or the fallback after `timeoutMs`. */
  ask (send: (id: number) => void, timeoutMs = this.timeoutMs): Promise<T> {
    const id = this.sequence = this.waiting.freeIdAfter(this.sequence)
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(this.fallback), timeoutMs)
      timer.unref()
      const settle = (value: T): void => {
        clearTimeout(timer)
        this.waiting.delete(id)
        resolve(value)
      }
      this.waiting.set(id, settle)
      send(id)
    })
  }

  answer (id: number, value: T): void {
    this.waiting.get(id)?.(value)
  }

  /** Resolves every open question with the fallback, e.g. when the other side is gone. */
  abandon (): void {
    for (const settle of this.waiting.list()) settle(this.fallback)
  }
}
