import { escapeLabelValue } from '../metrics/text-format.js'
import { PendingQueue } from './pending-queue.js'
import type { RoutedVersion } from './routing-table.js'
import type { UpstreamInstance } from './upstream-instance.js'
import { VersionStats } from './version-stats.js'

/** What a version keeps of an open call: its place in the deadline-ordered list. */
export interface OpenCall<C> {
  prev: C | null
  next: C | null
  readonly deadline: number
  isWaiting (): boolean
}

const isWaiting = (call: OpenCall<unknown>): boolean => call.isWaiting()

/**
 * Everything the gateway keeps per function version: its instances, the
 * requests waiting for one (the activator's buffer), and the open requests in
 * arrival order, which is also deadline order since they share one timeout.
 */
export class VersionState<C extends OpenCall<C>> {
  instances: UpstreamInstance[] = []
  readonly queue: PendingQueue<C>
  config: RoutedVersion
  lastDemandAt = 0
  readonly stats: VersionStats
  /** `namespace="…",function="…",version="…"`, escaped for the Prometheus text format. */
  readonly labels: string
  private head: C | null = null
  private tail: C | null = null

  constructor (config: RoutedVersion, now: number) {
    this.config = config
    this.queue = new PendingQueue<C>(config.queueLimit, isWaiting)
    this.stats = new VersionStats(now)
    this.labels = versionLabels(config.key)
  }

  get key (): string {
    return this.config.key
  }

  /** The least-loaded instance with a free slot, or null. */
  pick (): UpstreamInstance | null {
    let best: UpstreamInstance | null = null
    for (let i = 0; i < this.instances.length; i++) {
      const instance = this.instances[i]
      if (instance.available && (best === null || instance.inflight < best.inflight)) best = instance
    }
    return best
  }

  hasReadyInstance (): boolean {
    for (let i = 0; i < this.instances.length; i++) if (this.instances[i].state === 'ready') return true
    return false
  }

  hasOpenCalls (): boolean {
    return this.head !== null
  }

  /** Adds an open call, keeping the list sorted by deadline (appending is the common case). */
  link (call: C, now: number): void {
    this.stats.opened(now)
    let after = this.tail
    while (after !== null && after.deadline > call.deadline) after = after.prev
    call.prev = after
    call.next = after === null ? this.head : after.next
    if (call.next !== null) call.next.prev = call
    else this.tail = call
    if (after !== null) after.next = call
    else this.head = call
  }

  unlink (call: C, now: number): void {
    if (call.prev === null && this.head !== call) return
    this.stats.closed(now)
    if (call.prev !== null) call.prev.next = call.next
    else if (this.head === call) this.head = call.next
    if (call.next !== null) call.next.prev = call.prev
    else if (this.tail === call) this.tail = call.prev
    call.prev = null
    call.next = null
  }

  /** Calls `expire` on every open call whose deadline has passed. */
  expire (now: number, expire: (call: C) => void): void {
    while (this.head !== null && this.head.deadline <= now) expire(this.head)
  }
}

/** The Prometheus labels of a version key `namespace/name@version`. */
function versionLabels (key: string): string {
  const slash = key.indexOf('/')
  const at = key.lastIndexOf('@')
  return `namespace="${escapeLabelValue(key.slice(0, slash))}",function="${escapeLabelValue(key.slice(slash + 1, at))}",version="${escapeLabelValue(key.slice(at + 1))}"`
}
