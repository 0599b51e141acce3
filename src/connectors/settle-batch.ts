// Gathers the settlements made in one turn of the event loop into one call:
// the consumer loop acknowledges a delivered batch at once (ackMany) or
// message by message in the same turn, and one round trip (one script, one
// command) for all of them costs the broker and the client a fraction of one
// per message.

/** Sends `items` at once; answers one result per item, in order. */
export type SendBatch<T, R> = (items: readonly T[]) => Promise<readonly R[]>

/** One add or addMany: its items are `count` of the turn's, from `from`. */
interface Waiting<R> {
  from: number
  count: number
  resolve: (results: R[]) => void
  reject: (err: unknown) => void
}

export class SettleBatch<T, R> {
  private items: T[] = []
  private waiting: Array<Waiting<R>> = []
  private scheduled = false

  /** `max`: the most items one call carries; a turn with more is sent in several calls, in order. */
  constructor (private readonly send: SendBatch<T, R>, private readonly max: number) {}

  add (item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => this.enqueue([item], (results) => resolve(results[0] as R), reject))
  }

  /** Several items, answered together: one promise for all of them, not one each. */
  addMany (items: readonly T[]): Promise<R[]> {
    if (items.length === 0) return Promise.resolve([])
    return new Promise<R[]>((resolve, reject) => this.enqueue(items, resolve, reject))
  }

  private enqueue (items: readonly T[], resolve: (results: R[]) => void, reject: (err: unknown) => void): void {
    const from = this.items.length
    for (let i = 0; i < items.length; i++) this.items.push(items[i] as T)
    this.waiting.push({ from, count: items.length, resolve, reject })
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(this.flush)
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const items = this.items
    const waiting = this.waiting
    if (items.length === 0) return
    this.items = []
    this.waiting = []
    const max = this.max
    const calls: Array<Promise<readonly R[]>> = []
    for (let at = 0; at < items.length; at += max) {
      const part = at === 0 && items.length <= max ? items : items.slice(at, at + max)
      calls.push(this.send(part))
    }
    void Promise.allSettled(calls).then((outcomes) => {
      for (const w of waiting) answer(w, outcomes, max, items.length)
    })
  }
}

/** Resolves a waiter with its items' results, or rejects it when a call that carried one of them failed or left it out. */
function answer<R> (w: Waiting<R>, outcomes: Array<PromiseSettledResult<readonly R[]>>, max: number, total: number): void {
  const results: R[] = new Array<R>(w.count)
  for (let k = 0; k < w.count; k++) {
    const i = w.from + k
    const call = Math.floor(i / max)
    const outcome = outcomes[call] as PromiseSettledResult<readonly R[]>
    if (outcome.status === 'rejected') {
      w.reject(outcome.reason)
      return
    }
    const at = i % max
    if (at >= outcome.value.length) {
      w.reject(new Error(`a batch of ${Math.min(max, total - call * max)} settlements was answered with ${outcome.value.length} results`))
      return
    }
    results[k] = outcome.value[at] as R
  }
  w.resolve(results)
}
