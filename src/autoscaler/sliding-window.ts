/**
 * The last `capacity` per-second samples of one metric, averaged over any
 * suffix of them: the stable window and the panic window read the same buffer.
 */
export class SlidingWindow {
  private readonly samples: Float64Array
  private next = 0
  private count = 0

  constructor (readonly capacity: number) {
    this.samples = new Float64Array(Math.max(1, capacity))
  }

  push (value: number): void {
    this.samples[this.next] = value
    this.next = (this.next + 1) % this.samples.length
    if (this.count < this.samples.length) this.count++
  }

  /**
   * Mean of the newest `last` samples. A window not yet full averages what it
   * has, so a new version scales on its first seconds of traffic.
   */
  average (last: number): number {
    const n = Math.min(last, this.count)
    if (n === 0) return 0
    let sum = 0
    for (let i = 1; i <= n; i++) sum += this.samples[(this.next - i + this.samples.length) % this.samples.length]
    return sum / n
  }
}
