/**
 * How many keys the keyed limits may track at once, shared by a namespace's
 * limits and, through a parent, by the whole gateway. A tenant's rules could
 * otherwise fill the gateway's heap with keys its own callers make up (a
 * header or query value per request, about 500 bytes each, up to maxKeys per
 * limit and 20 rules per function) until the gateway thread, and every
 * tenant's traffic with it, stopped. Out of budget, a keyed limit recycles
 * its own least recently seen key instead of adding one, which keeps the
 * limit safe (keyed-limiter.ts: a forgotten key's use is never given back).
 */
export class KeyBudget {
  private used = 0

  constructor (readonly max: number, private readonly parent: KeyBudget | null = null) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`a key budget is a whole number >= 0, not ${max}`)
  }

  /** Keys counted against this budget now. */
  get inUse (): number {
    return this.used
  }

  /** Counts one more key if this budget and its parent have room for it; false, with nothing counted, if not. */
  take (): boolean {
    if (this.used >= this.max) return false
    if (this.parent !== null && !this.parent.take()) return false
    this.used++
    return true
  }

  /** Hands back `n` keys taken before (a limit that went away). */
  give (n: number): void {
    const back = Math.min(n, this.used)
    this.used -= back
    this.parent?.give(back)
  }
}
