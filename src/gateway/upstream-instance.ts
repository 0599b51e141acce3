import { InstanceConnection, type ConnectionOwner } from './instance-connection.js'
import type { RoutedInstance } from './routing-table.js'
import { TimeAveragedCount } from './time-averaged-count.js'

/** What an instance tells the gateway about itself. */
export interface InstanceEvents {
  /** The connection failed or closed unexpectedly: the control plane should check the instance. */
  unreachable (instance: UpstreamInstance, detail: string): void
  violation (instance: UpstreamInstance, reason: string): void
}

/** One instance as the gateway sees it: its data connection and a count of requests on it. */
export class UpstreamInstance implements ConnectionOwner {
  state: RoutedInstance['state']
  private connection: InstanceConnection | null = null
  private readonly load: TimeAveragedCount
  private retired = false
  private violated = false

  constructor (
    readonly id: string,
    readonly versionKey: string,
    private readonly socketPath: string,
    private readonly secret: string,
    readonly concurrency: number,
    state: RoutedInstance['state'],
    now: number,
    private readonly events: InstanceEvents
  ) {
    this.state = state
    this.load = new TimeAveragedCount(now)
  }

  /** Requests on the instance now. */
  get inflight (): number {
    return this.load.value
  }

  get available (): boolean {
    return this.state === 'ready' && this.load.value < this.concurrency
  }

  /** The connection new streams go on, opened on first use. */
  connect (): InstanceConnection {
    const current = this.connection
    if (current !== null && current.usable) return current
    // A connection that is going away finishes its streams on its own.
    const fresh = new InstanceConnection(this.socketPath, this.secret, this)
    this.connection = fresh
    return fresh
  }

  acquire (now: number): void {
    this.load.add(1, now)
  }

  release (now: number): void {
    this.load.add(-1, now)
  }

  /** The time-averaged in-flight count since the last call; starts the next interval. */
  takeConcurrency (now: number, intervalMs: number): number {
    return this.load.takeAverage(now, intervalMs)
  }

  /** The instance left the table: no new requests; its connection closes once its streams end. */
  close (): void {
    this.retired = true
    this.state = 'draining'
    this.connection?.retire()
  }

  /** Ends the connection at once (the gateway closes). */
  destroy (): void {
    this.connection?.destroy()
  }

  onGoAway (): void {
    // The instance drains: it takes nothing new, whatever the next table says.
    this.state = 'draining'
  }

  onClosed (connection: InstanceConnection, clean: boolean, detail: string): void {
    if (this.connection === connection) this.connection = null
    if (clean || this.retired || this.violated) return
    this.state = 'draining'
    this.events.unreachable(this, detail)
  }

  onViolation (connection: InstanceConnection, reason: string): void {
    this.violated = true
    this.state = 'draining'
    this.events.violation(this, reason)
  }
}
