// The releases Roost made per message (by stream sequence), which JetStream
// counts as deliveries but Roost counts as no attempt (docs/connectors.md,
// "Attempts"). Kept in memory, so bounded: past `limit` messages the oldest
// entry goes, and that message's attempt is then counted conservatively high.

export const RELEASES_KEPT = 10_000

export class ReleaseCounts {
  private readonly counts = new Map<number, number>()

  constructor (private readonly limit = RELEASES_KEPT) {}

  /** The releases made for `sequence` so far. */
  of (sequence: number): number {
    return this.counts.get(sequence) ?? 0
  }

  add (sequence: number): void {
    const count = this.of(sequence) + 1
    this.counts.delete(sequence)
    this.counts.set(sequence, count)
    if (this.counts.size > this.limit) this.counts.delete(this.counts.keys().next().value as number)
  }

  /** The message is settled for good (acknowledged, dead): nothing to count any more. */
  forget (sequence: number): void {
    this.counts.delete(sequence)
  }

  /** The attempt a delivery with this delivery count is: never below the first. */
  attempt (sequence: number, deliveryCount: number): number {
    return Math.max(1, deliveryCount - this.of(sequence))
  }
}
