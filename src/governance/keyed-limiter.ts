// Hot-parameter limits (per caller, IP, header or query value) keep one
// limiter per value in a map bounded to `maxKeys`, least recently used first
// out. Forgetting a key must not hand it a full quota when it comes back (the
// bypass of evicting one's own exhausted key with a spray of fresh ones), so an
// evicted limiter's state is folded into one shared overflow state (the
// maximum of all evicted use), and every key that enters the map starts from
// it: as used as the most used key evicted, until that use leaves its window.
// A returning key is never fuller than it left. The price, paid only when more
// than `maxKeys` keys are active at once: a new key may start partly used.
// A shared KeyBudget (key-budget.ts) can lower that bound below `maxKeys`
// while other limits hold most of what the gateway may track.

import type { KeyBudget } from './key-budget.js'

/** A limiter state that can be bounded by another of its kind and emptied, for the keyed map. */
export interface KeyedState {
  /** Makes this state at least as restrictive as `other` from `now` on (a maximum of the two). */
  absorb (other: this, now: number): void
  /** Back to the state of a limiter that has seen nothing. */
  reset (): void
}

interface Entry<L> {
  key: string
  limiter: L
  newer: Entry<L> | null
  older: Entry<L> | null
}

/**
 * One limiter per key, at most `maxKeys` of them. `get` is O(1): a map lookup
 * and a move to the front of a linked list; once full, an eviction reuses the
 * evicted entry and its limiter, so the steady state allocates nothing.
 */
export class KeyedLimiter<L extends KeyedState> {
  /** The bound on every evicted key's state; new keys start from it. */
  readonly overflow: L
  private readonly entries = new Map<string, Entry<L>>()
  private newest: Entry<L> | null = null
  private oldest: Entry<L> | null = null
  private evicted = 0

  /** `budget`: counted against for every key added, and given back by release(); none, the limit is bound by maxKeys alone. */
  constructor (readonly maxKeys: number, private readonly create: () => L, private readonly budget: KeyBudget | null = null) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, not ${maxKeys}`)
    this.overflow = create()
  }

  /** Keys tracked now (the `limiter keys tracked` metric). */
  get size (): number {
    return this.entries.size
  }

  /** Keys evicted since creation: a steadily growing count says `maxKeys` is too small. */
  get evictions (): number {
    return this.evicted
  }

  has (key: string): boolean {
    return this.entries.has(key)
  }

  /** The limiter of `key`, now its most recently used; a key not tracked is added, evicting the least recently used one when full. */
  get (key: string, now: number): L {
    const entry = this.entries.get(key)
    if (entry === undefined) return this.add(key, now)
    if (entry !== this.newest) {
      this.unlink(entry)
      this.pushNewest(entry)
    }
    return entry.limiter
  }

  /** The limit went away: the keys it tracked go back to the budget, and it tracks none. */
  release (): void {
    this.budget?.give(this.entries.size)
    this.entries.clear()
    this.newest = null
    this.oldest = null
  }

  private add (key: string, now: number): L {
    let entry: Entry<L>
    const oldest = this.oldest
    if (this.entries.size < this.maxKeys && (this.budget === null || this.budget.take())) {
      entry = { key, limiter: this.create(), newer: null, older: null }
    } else if (oldest === null) {
      // No room in the budget and no key of its own to recycle: counted with the keys forgotten.
      return this.overflow
    } else {
      entry = oldest
      this.unlink(entry)
      this.entries.delete(entry.key)
      this.overflow.absorb(entry.limiter, now)
      entry.limiter.reset()
      entry.key = key
      this.evicted++
    }
    // The key may be one evicted earlier: it gets no more than the overflow allows.
    entry.limiter.absorb(this.overflow, now)
    this.entries.set(key, entry)
    this.pushNewest(entry)
    return entry.limiter
  }

  private unlink (entry: Entry<L>): void {
    if (entry.newer === null) this.newest = entry.older
    else entry.newer.older = entry.older
    if (entry.older === null) this.oldest = entry.newer
    else entry.older.newer = entry.newer
    entry.newer = null
    entry.older = null
  }

  private pushNewest (entry: Entry<L>): void {
    entry.older = this.newest
    entry.newer = null
    if (this.newest === null) this.oldest = entry
    else this.newest.newer = entry
    this.newest = entry
  }
}
