/**
 * A bounded FIFO on a ring buffer: push and shift never move elements, and the
 * buffer is allocated once per version. Entries that left early (timed out)
 * are skipped lazily by `shift` through the `isLive` test.
 */
export class PendingQueue<T> {
  private readonly items: Array<T | undefined>
  private head = 0
  private tail = 0
  private count = 0

  constructor (readonly capacity: number, private readonly isLive: (item: T) => boolean) {
    this.items = new Array<T | undefined>(capacity)
  }

  get length (): number {
    return this.count
  }

  /** False when full: the caller answers 503 instead of waiting. */
  push (item: T): boolean {
    if (this.count === this.capacity) this.compact()
    if (this.count === this.capacity) return false
    this.items[this.tail] = item
    this.tail = (this.tail + 1) % this.capacity
    this.count++
    return true
  }

  shift (): T | undefined {
    while (this.count > 0) {
      const item = this.items[this.head] as T
      this.items[this.head] = undefined
      this.head = (this.head + 1) % this.capacity
      this.count--
      if (this.isLive(item)) return item
    }
    return undefined
  }

  /** Removes and returns every live entry. */
  drain (): T[] {
    const out: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }

  // Dead entries only take room until the queue fills; then they are dropped.
  private compact (): void {
    const live = this.drain()
    for (const item of live) {
      this.items[this.tail] = item
      this.tail = (this.tail + 1) % this.capacity
      this.count++
    }
  }
}
