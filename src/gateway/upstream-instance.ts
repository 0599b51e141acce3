import { Pool } from 'undici'
import type { RoutedInstance } from './routing-table.js'
import { TimeAveragedCount } from './time-averaged-count.js'

/** One instance as the gateway sees it: a pool of kept-alive connections and a count of requests on it. */
export class UpstreamInstance {
  state: RoutedInstance['state']
  readonly pool: Pool
  private readonly load: TimeAveragedCount

  constructor (readonly id: string, readonly versionKey: string, host: string, port: number, readonly concurrency: number, state: RoutedInstance['state'], now: number) {
    this.state = state
    this.load = new TimeAveragedCount(now)
    this.pool = new Pool(`http://${host}:${port}`, {
      // Never more connections than requests the instance may hold at once.
      connections: concurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      // Timeouts are the gateway's own (spec.timeout, swept centrally), not undici's.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: 2_000
    })
  }

  /** Requests on the instance now. */
  get inflight (): number {
    return this.load.value
  }

  get available (): boolean {
    return this.state === 'ready' && this.load.value < this.concurrency
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

  close (): void {
    // close() lets requests in flight finish; a dead instance fails them anyway.
    this.pool.close().catch(() => {})
  }
}
