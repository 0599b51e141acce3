import { Pool } from 'undici'
import type { RoutedInstance } from './routing-table.js'

/** One instance as the gateway sees it: a pool of kept-alive connections and a count of requests on it. */
export class UpstreamInstance {
  inflight = 0
  state: RoutedInstance['state']
  readonly pool: Pool
  /** ∫ inflight dt since the last report, in request·ms. */
  private inflightArea = 0
  private changedAt: number

  constructor (readonly id: string, readonly versionKey: string, host: string, port: number, readonly concurrency: number, state: RoutedInstance['state'], now: number) {
    this.state = state
    this.changedAt = now
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

  get available (): boolean {
    return this.state === 'ready' && this.inflight < this.concurrency
  }

  acquire (now: number): void {
    this.inflightArea += this.inflight * (now - this.changedAt)
    this.changedAt = now
    this.inflight++
  }

  release (now: number): void {
    this.inflightArea += this.inflight * (now - this.changedAt)
    this.changedAt = now
    this.inflight--
  }

  /** The time-averaged in-flight count since the last call; starts the next interval. */
  takeConcurrency (now: number, intervalMs: number): number {
    this.inflightArea += this.inflight * (now - this.changedAt)
    this.changedAt = now
    const concurrency = intervalMs > 0 ? this.inflightArea / intervalMs : this.inflight
    this.inflightArea = 0
    return concurrency
  }

  close (): void {
    // close() lets requests in flight finish; a dead instance fails them anyway.
    this.pool.close().catch(() => {})
  }
}
