import type { Clock } from '../../src/instances/index.js'

/** Time that moves only when the test says so. */
export class FakeClock implements Clock {
  time = 0
  private timers: Array<{ at: number, fn: () => void, id: number }> = []
  private nextId = 1

  now (): number { return this.time }

  setTimeout (fn: () => void, ms: number): unknown {
    const id = this.nextId++
    this.timers.push({ at: this.time + ms, fn, id })
    return id
  }

  clearTimeout (handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle)
  }

  get pending (): number { return this.timers.length }

  advance (ms: number): void {
    const end = this.time + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at)
      const next = this.timers[0]
      if (next === undefined || next.at > end) break
      this.timers.shift()
      this.time = next.at
      next.fn()
    }
    this.time = end
  }
}
