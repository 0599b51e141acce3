// The signed messages accepted lately, so that the same one is accepted once.
// An entry is kept while its stamp (the message's timestamp) could still pass
// the clock-skew check, and forgotten as soon as it could not: then the
// timestamp check refuses a replay by itself. The caller passes that bound as
// `horizon` (now minus the tolerance), so a change of tolerance applies to the
// entries already held.
//
// When the cache is full of entries that are all still needed, a new message
// is refused rather than an entry forgotten: forgetting one would let that
// message be replayed, silently, for the rest of its window, while a refusal
// is visible (503, Retry-After) and the sender's retry succeeds once entries
// expire. Only verified messages are admitted, so filling the cache takes the
// signing secret; an attacker replaying captured messages adds nothing to it.
//
// Entries sit in a map for lookup and in a binary min-heap by stamp for
// expiry, so admitting one costs O(log n) and purging costs O(log n) per
// expired entry, whatever order the stamps arrive in.

export type ReplayVerdict = 'admitted' | 'replayed' | 'full'

export class ReplayCache {
  private readonly stamps = new Map<string, number>()
  private readonly heapKeys: string[] = []
  private readonly heapStamps: number[] = []

  constructor (public maxSize: number) {}

  get size (): number {
    return this.stamps.size
  }

  /** Admits `key` (stamped `stamp`) unless it is held already or the cache is full; entries stamped before `horizon` are forgotten first. */
  admit (key: string, stamp: number, horizon: number): ReplayVerdict {
    this.purge(horizon)
    if (this.stamps.has(key)) return 'replayed'
    if (this.stamps.size >= this.maxSize) return 'full'
    this.stamps.set(key, stamp)
    this.push(key, stamp)
    return 'admitted'
  }

  /** Forgets every entry stamped before `horizon`. */
  purge (horizon: number): void {
    while (this.heapStamps.length > 0 && (this.heapStamps[0] as number) < horizon) {
      this.stamps.delete(this.pop())
    }
  }

  private push (key: string, stamp: number): void {
    const keys = this.heapKeys
    const stamps = this.heapStamps
    let i = keys.length
    keys.push(key)
    stamps.push(stamp)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((stamps[parent] as number) <= stamp) break
      keys[i] = keys[parent] as string
      stamps[i] = stamps[parent] as number
      i = parent
    }
    keys[i] = key
    stamps[i] = stamp
  }

  private pop (): string {
    const keys = this.heapKeys
    const stamps = this.heapStamps
    const top = keys[0] as string
    const lastKey = keys.pop() as string
    const lastStamp = stamps.pop() as number
    const n = keys.length
    if (n === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && (stamps[right] as number) < (stamps[left] as number) ? right : left
      if ((stamps[child] as number) >= lastStamp) break
      keys[i] = keys[child] as string
      stamps[i] = stamps[child] as number
      i = child
    }
    keys[i] = lastKey
    stamps[i] = lastStamp
    return top
  }
}
