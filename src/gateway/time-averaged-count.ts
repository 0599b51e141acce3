/**
 * A count that goes up and down (requests open, requests in flight) and its
 * average over time: the integral of the count since the last `takeAverage`,
 * divided by the interval. Plain fields, since it changes on every request.
 */
export class TimeAveragedCount {
  value = 0
  /** ∫ value dt since the last take, in count·ms. */
  private area = 0
  private changedAt: number

  constructor (now: number) {
    this.changedAt = now
  }

  add (delta: number, now: number): void {
    this.area += this.value * (now - this.changedAt)
    this.changedAt = now
    this.value += delta
  }

  /** The average since the last call (the current value for an empty interval); starts the next interval. */
  takeAverage (now: number, intervalMs: number): number {
    this.area += this.value * (now - this.changedAt)
    this.changedAt = now
    const average = intervalMs > 0 ? this.area / intervalMs : this.value
    this.area = 0
    return average
  }
}
