// Counters over a time-based sliding window of `buckets` buckets of
// `bucketMs` each, recycled in place (Sentinel's LeapArray, without its
// locks: the gateway's event loop is single-threaded). The window read at
// `now` is the current bucket and the `buckets - 1` before it, so it spans
// between (buckets - 1) × bucketMs and buckets × bucketMs. Sums are kept as
// buckets fill and expire: a read is O(1), and moving on costs at most one
// step per bucket passed.

export class BucketWindow {
  private readonly counts: Float64Array
  private readonly sums: Float64Array
  private epoch = -Infinity

  constructor (readonly buckets: number, readonly bucketMs: number, readonly counters: number) {
    if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`a window needs a whole number of buckets >= 1, not ${buckets}`)
    if (!Number.isFinite(bucketMs) || bucketMs <= 0) throw new RangeError(`a bucket must last a positive number of ms, not ${bucketMs}`)
    this.counts = new Float64Array(buckets * counters)
    this.sums = new Float64Array(counters)
  }

  add (now: number, counter: number, n = 1): void {
    this.advance(now)
    this.counts[this.slot(this.epoch) * this.counters + counter] += n
    this.sums[counter] += n
  }

  /** The counter's total over the window. */
  sum (now: number, counter: number): number {
    this.advance(now)
    return this.sums[counter]
  }

  /** The counter in the current bucket alone. */
  current (now: number, counter: number): number {
    this.advance(now)
    return this.counts[this.slot(this.epoch) * this.counters + counter]
  }

  clear (): void {
    this.counts.fill(0)
    this.sums.fill(0)
    this.epoch = -Infinity
  }

  private advance (now: number): void {
    const epoch = Math.floor(now / this.bucketMs)
    // A clock that steps back adds to the newest bucket rather than to one already expired.
    if (epoch <= this.epoch) return
    if (epoch - this.epoch >= this.buckets) {
      this.counts.fill(0)
      this.sums.fill(0)
    } else {
      for (let e = this.epoch + 1; e <= epoch; e++) this.clearSlot(this.slot(e))
    }
    this.epoch = epoch
  }

  private clearSlot (slot: number): void {
    const base = slot * this.counters
    for (let c = 0; c < this.counters; c++) {
      this.sums[c] -= this.counts[base + c]
      this.counts[base + c] = 0
    }
  }

  private slot (epoch: number): number {
    const slot = epoch % this.buckets
    return slot < 0 ? slot + this.buckets : slot
  }
}
