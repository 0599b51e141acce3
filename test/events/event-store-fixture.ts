import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { EventStore } from '../../src/events/index.js'
import type { EventStoreOptions, WallClock } from '../../src/events/index.js'

/** Wall-clock time that moves only when the test says so. */
export class ManualClock implements WallClock {
  constructor (public time = Date.UTC(2025, 0, 1)) {}
  now (): number { return this.time }
  advance (ms: number): void { this.time += ms }
}

/** A random source that returns what the test set, so jittered delays are exact. */
export class FixedRandom {
  value = 0.5
  readonly next = (): number => this.value
}

export interface Fixture {
  dir: string
  store: EventStore
  clock: ManualClock
  random: FixedRandom
  reopen: () => EventStore
}

/** An EventStore on a fresh folder, on a manual clock; closed and removed after the test. */
export function openFixture (t: TestContext, options: EventStoreOptions = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'roost-events-'))
  const clock = new ManualClock()
  const random = new FixedRandom()
  const open = (): EventStore => EventStore.open(dir, { clock, random: random.next, durability: 'normal', ...options })
  const fixture: Fixture = {
    dir,
    store: open(),
    clock,
    random,
    reopen: () => {
      fixture.store.close()
      fixture.store = open()
      return fixture.store
    }
  }
  t.after(() => {
    fixture.store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return fixture
}

export const NS = 'shop'
export const QUEUE = 'orders'
export const LEASE = { max: 10, leaseMs: 30_000, consumer: 'instance-1' } as const
