// The delivery tags one channel gave a subscription and it has not settled,
// in the order they came. AMQP's basic.ack with `multiple` settles every
// outstanding tag up to the one it names in one frame, where a batch of a
// hundred acks is otherwise a hundred frames for the client to write and the
// broker to read. It is right only when no tag up to that one is outstanding
// except the batch's own (messages pushed ahead, or fetched by another
// delivery still at work, would be acknowledged unrun): this tells when. A
// tag it is never told was settled only keeps it from saying yes. Pure.

/** Past this many settled tags at its front, the list drops them (amortized, not on every settlement). */
const COMPACT_AT = 1024

export class OpenTags {
  /** Tags in delivery order (AMQP numbers a channel's deliveries 1, 2, 3…); the ones before `head` are settled. */
  private tags: number[] = []
  private head = 0
  /** Every tag up to this one is settled. */
  private through = 0
  /** Settled tags after the first open one. */
  private readonly settledAhead = new Set<number>()

  /** Tags delivered and not settled. */
  get size (): number {
    return this.tags.length - this.head - this.settledAhead.size
  }

  delivered (tag: number): void {
    this.tags.push(tag)
  }

  settled (tag: number): void {
    if (tag <= this.through) return
    this.settledAhead.add(tag)
    this.advance()
  }

  /**
   * Marks `tags` settled together, and answers whether a basic.ack with
   * `multiple` up to the greatest of them settles exactly them: whether no
   * tag below it is still open.
   */
  settledTogether (tags: readonly number[]): boolean {
    let max = 0
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as number
      if (tag > max) max = tag
      if (tag > this.through) this.settledAhead.add(tag)
    }
    this.advance()
    return this.head === this.tags.length || (this.tags[this.head] as number) > max
  }

  private advance (): void {
    const tags = this.tags
    while (this.head < tags.length && this.settledAhead.delete(tags[this.head] as number)) this.through = tags[this.head++] as number
    if (this.head >= COMPACT_AT && this.head * 2 >= tags.length) {
      this.tags = tags.slice(this.head)
      this.head = 0
    }
  }
}
