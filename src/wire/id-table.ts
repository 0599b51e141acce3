/** The first capacity of a table: a power of two. */
const INITIAL_CAPACITY = 16
/** Ids are positive and at most this (stream ids and request ids are 31-bit). */
export const MAX_ID = 0x7fffffff

/**
 * Values by positive integer id, for what a connection holds open per request
 * (streams, deliveries, answers awaited): open addressing on a power-of-two
 * table, linear probing, deletion by backward shift, so that neither set nor
 * delete allocates once the table has grown to the connection's concurrency.
 *
 * Why not a Map: V8 (node 20) links each hash table a Map outgrows or
 * compacts to its successor, entries included, for iterators still walking
 * it. Under one set and one delete per request a Map rehashes every few
 * dozen requests, and once one of its tables has reached the old generation
 * every later table, and every request held in them, is kept alive through
 * the young generation by that dead table: the gateway's scavenges copied 38%
 * of what it allocated and paused it 3.3 ms every 45 ms. With this table they
 * copy under 1%.
 */
export class IdTable<T> {
  private ids = new Uint32Array(INITIAL_CAPACITY)
  private values: Array<T | undefined> = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined)
  private mask = INITIAL_CAPACITY - 1
  private count = 0

  get size (): number {
    return this.count
  }

  /** Slots allocated: twice the most ever held at once, rounded up to a power of two (at least 16). */
  get capacity (): number {
    return this.ids.length
  }

  get (id: number): T | undefined {
    const ids = this.ids
    const mask = this.mask
    for (let i = id & mask; ; i = (i + 1) & mask) {
      const at = ids[i]
      if (at === id) return this.values[i]
      if (at === 0) return undefined
    }
  }

  has (id: number): boolean {
    return this.slotOf(id) >= 0
  }

  set (id: number, value: T): void {
    if (!Number.isInteger(id) || id <= 0 || id > MAX_ID) throw new RangeError(`an id of ${id}: ids are integers from 1 to ${MAX_ID}`)
    // At most half full: probes stay short.
    if ((this.count + 1) * 2 > this.ids.length) this.grow()
    const ids = this.ids
    const mask = this.mask
    let i = id & mask
    while (ids[i] !== 0 && ids[i] !== id) i = (i + 1) & mask
    if (ids[i] === 0) this.count++
    ids[i] = id
    this.values[i] = value
  }

  delete (id: number): boolean {
    let hole = this.slotOf(id)
    if (hole < 0) return false
    this.count--
    const ids = this.ids
    const values = this.values
    const mask = this.mask
    // Backward shift: every later entry of the run whose home slot does not lie
    // between the hole and itself moves into the hole, so no probe ever stops short.
    for (let j = (hole + 1) & mask; ids[j] !== 0; j = (j + 1) & mask) {
      const home = ids[j] & mask
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j
      if (stays) continue
      ids[hole] = ids[j]
      values[hole] = values[j]
      hole = j
    }
    ids[hole] = 0
    values[hole] = undefined
    return true
  }

  /**
   * The id after `last` that the table does not hold, coming round to 1 after
   * MAX_ID: for those that number what they hold in order (an id still held
   * when the ids come round, after two billion of them, keeps it).
   */
  freeIdAfter (last: number): number {
    let id = last
    do id = id >= MAX_ID ? 1 : id + 1
    while (this.has(id))
    return id
  }

  /** The values held, in no particular order: a copy, so the caller may delete while it walks them. */
  list (): T[] {
    const out: T[] = []
    const ids = this.ids
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) out.push(this.values[i] as T)
    return out
  }

  /** The ids and values held, as [id, value] pairs in no particular order: a copy. */
  entries (): Array<[number, T]> {
    const out: Array<[number, T]> = []
    const ids = this.ids
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) out.push([ids[i], this.values[i] as T])
    return out
  }

  clear (): void {
    this.ids.fill(0)
    this.values.fill(undefined)
    this.count = 0
  }

  private slotOf (id: number): number {
    const ids = this.ids
    const mask = this.mask
    for (let i = id & mask; ; i = (i + 1) & mask) {
      const at = ids[i]
      if (at === id) return at === 0 ? -1 : i
      if (at === 0) return -1
    }
  }

  private grow (): void {
    const ids = this.ids
    const values = this.values
    const capacity = ids.length * 2
    this.ids = new Uint32Array(capacity)
    this.values = new Array<T | undefined>(capacity).fill(undefined)
    this.mask = capacity - 1
    this.count = 0
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) this.set(ids[i], values[i] as T)
  }
}
