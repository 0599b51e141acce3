// Gathers the settlements made in one turn of the event loop into one call:
// the consumer loop acknowledges a delivered batch message by message, all in
// the same turn, and one round trip (one script, one command) for all of
// them costs the broker and the client a fraction of one per message.

/** Sends `items` at once; answers one result per item, in order. */
export type SendBatch<T, R> = (items: readonly T[]) => Promise<readonly R[]>

interface Waiting<R> {
  resolve: (result: R) => void
  reject: (err: unknown) => void
}

export class SettleBatch<T, R> {
  private items: T[] = []
  private waiting: Array<Waiting<R>> = []
  private scheduled = false

  /** `max`: the most items one call carries; more are sent in further calls of the same turn. */
  constructor (private readonly send: SendBatch<T, R>, private readonly max: number) {}

  add (item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push(item)
      this.waiting.push({ resolve, reject })
      if (this.items.length >= this.max) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        queueMicrotask(this.flush)
      }
    })
  }

  private readonly flush = (): void => {
    this.scheduled = false
    if (this.items.length === 0) return
    const items = this.items
    const waiting = this.waiting
    this.items = []
    this.waiting = []
    this.send(items).then((results) => {
      for (let i = 0; i < waiting.length; i++) {
        const w = waiting[i] as Waiting<R>
        if (i < results.length) w.resolve(results[i] as R)
        else w.reject(new Error(`a batch of ${items.length} settlements was answered with ${results.length} results`))
      }
    }, (err: unknown) => {
      for (const w of waiting) w.reject(err)
    })
  }
}
