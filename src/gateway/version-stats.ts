// What the gateway counts per function version, updated on the request path:
// plain number fields and typed arrays allocated once per version, so that
// counting a request allocates nothing and looks nothing up.
import { TimeAveragedCount } from './time-averaged-count.js'

/** Upper bounds of the latency histograms, in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const
// The same bounds in milliseconds: observations are compared without a division.
const BUCKETS_MS = LATENCY_BUCKETS_SECONDS.map((seconds) => seconds * 1000)
const BUCKET_COUNT = BUCKETS_MS.length

/** A latency histogram: counts per bucket (not cumulative; the last one is +Inf), their sum and count. */
export class LatencyHistogram {
  readonly counts = new Float64Array(BUCKET_COUNT + 1)
  sumMs = 0
  count = 0

  observe (ms: number): void {
    let i = 0
    while (i < BUCKET_COUNT && ms > BUCKETS_MS[i]) i++
    this.counts[i]++
    this.sumMs += ms
    this.count++
  }
}

/**
 * One version's counters. "Open" requests are those in flight on an instance
 * plus those waiting in the version's queue (the activator buffer): at zero
 * instances the waiting ones are the whole demand. Its time integral gives the
 * time-averaged concurrency the autoscaler scales on.
 */
export class VersionStats {
  /** Requests sent to an instance and not finished. */
  inFlight = 0
  /** Requests that arrived since the version was created. */
  arrivals = 0
  /** Requests that arrived while the version had no ready instance. */
  coldStarts = 0
  /** Completed requests per status class: [1xx, 2xx, 3xx, 4xx, 5xx]. */
  readonly codes = new Float64Array(5)
  readonly latency = new LatencyHistogram()
  /** Latency of the cold-start requests alone, from arrival to response. */
  readonly coldLatency = new LatencyHistogram()
  /** Requests open: in flight + waiting. */
  private readonly openCount: TimeAveragedCount
  private arrivalsReported = 0

  constructor (now: number) {
    this.openCount = new TimeAveragedCount(now)
  }

  /** Requests open now: in flight + waiting. */
  get open (): number {
    return this.openCount.value
  }

  get waiting (): number {
    return this.openCount.value - this.inFlight
  }

  opened (now: number): void {
    this.openCount.add(1, now)
  }

  closed (now: number): void {
    this.openCount.add(-1, now)
  }

  /** A response (proxied or the gateway's own) was sent `ms` after the request arrived. */
  completed (status: number, ms: number, cold: boolean): void {
    let index = ((status / 100) | 0) - 1
    if (index < 0) index = 0
    else if (index > 4) index = 4
    this.codes[index]++
    this.latency.observe(ms)
    if (cold) this.coldLatency.observe(ms)
  }

  /** The time-averaged open count since the last call, and the arrivals since; starts the next interval. */
  take (now: number, intervalMs: number): { concurrency: number, arrivals: number } {
    const concurrency = this.openCount.takeAverage(now, intervalMs)
    const arrivals = this.arrivals - this.arrivalsReported
    this.arrivalsReported = this.arrivals
    return { concurrency, arrivals }
  }
}
