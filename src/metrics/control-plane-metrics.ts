// The control plane's metrics (main thread): instance starts, autoscaler
// decisions, instances per state, the warm pool. Updated at control-plane
// pace (per start, per scaling tick), so prom-client's label hashing is fine
// here, unlike on the gateway's request path.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** A function version as the metrics label it: `namespace`, `function`, `version`. */
export interface FunctionVersionRef {
  namespace: string
  name: string
  version: number | string
}

export type InstanceState = 'starting' | 'ready' | 'draining'

export interface InstanceRef {
  namespace: string
  function: string
  version: number | string
  state: InstanceState
}

export interface ControlPlaneMetricsOptions {
  /** prom-client's process and Node.js metrics (CPU, memory, event-loop lag, GC). Default true. */
  defaultMetrics?: boolean
}

type VersionLabels = Record<'namespace' | 'function' | 'version', string>

const STATES: readonly InstanceState[] = ['starting', 'ready', 'draining']
const START_BUCKETS_SECONDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const VERSION_LABELS = ['namespace', 'function', 'version'] as const

/**
 * The control plane's series, in a registry of their own (never prom-client's
 * global one). Label sets of a version disappear when `setInstances` no longer
 * lists it, so deleted functions leave /metrics.
 */
export class ControlPlaneMetrics {
  readonly registry = new Registry()
  private readonly starts: Histogram<'namespace' | 'function' | 'version' | 'pool'>
  private readonly startsTotal: Counter<'namespace' | 'function' | 'version' | 'pool'>
  private readonly decisions: Counter<'namespace' | 'function' | 'version' | 'direction'>
  private readonly desired: Gauge<'namespace' | 'function' | 'version'>
  private readonly instances: Gauge<'namespace' | 'function' | 'version' | 'state'>
  private readonly warmPool: Gauge
  private readonly connectorUp: Gauge<'namespace' | 'queue' | 'connector'>
  private readonly queueBacklog: Gauge<'namespace' | 'queue' | 'connector'>
  /** Every version some series carries a label set for, by versionKey(). */
  private known = new Map<string, VersionLabels>()

  constructor (options: ControlPlaneMetricsOptions = {}) {
    const registers = [this.registry]
    this.starts = new Histogram({
      name: 'roost_instance_start_seconds',
      help: 'Time from asking for an instance to its being ready; pool="hit" when a warm-pool process took the bundle.',
      labelNames: [...VERSION_LABELS, 'pool'],
      buckets: START_BUCKETS_SECONDS,
      registers
    })
    this.startsTotal = new Counter({ name: 'roost_instance_starts_total', help: 'Instances started, by whether the warm pool served them.', labelNames: [...VERSION_LABELS, 'pool'], registers })
    this.decisions = new Counter({ name: 'roost_autoscaler_decisions_total', help: 'Changes of the desired instance count, by direction.', labelNames: [...VERSION_LABELS, 'direction'], registers })
    this.desired = new Gauge({ name: 'roost_autoscaler_desired_instances', help: 'The instance count the autoscaler wants.', labelNames: VERSION_LABELS, registers })
    this.instances = new Gauge({ name: 'roost_instances', help: 'Instances by state.', labelNames: [...VERSION_LABELS, 'state'], registers })
    this.warmPool = new Gauge({ name: 'roost_warm_pool_instances', help: 'Generic runtime processes waiting in the warm pool.', registers })
    this.connectorUp = new Gauge({ name: 'roost_queue_connector_up', help: 'Whether a broker trigger\'s broker is reachable and the trigger consumes (1) or not (0).', labelNames: ['namespace', 'queue', 'connector'], registers })
    this.queueBacklog = new Gauge({ name: 'roost_queue_backlog', help: 'Messages waiting or in flight on a consumed queue, from the events database or the broker itself.', labelNames: ['namespace', 'queue', 'connector'], registers })
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry })
      dropMisnamedGauges(this.registry)
    }
  }

  /** An instance became ready `seconds` after it was asked for. */
  coldStart (fn: FunctionVersionRef, seconds: number, pooled: boolean): void {
    const labels = { ...this.labels(fn), pool: pooled ? 'hit' : 'miss' }
    this.starts.observe(labels, seconds)
    this.startsTotal.inc(labels)
  }

  scalingDecision (fn: FunctionVersionRef, direction: 'up' | 'down', desired: number): void {
    const labels = this.labels(fn)
    this.decisions.inc({ ...labels, direction })
    this.desired.set(labels, desired)
  }

  setDesired (fn: FunctionVersionRef, desired: number): void {
    this.desired.set(this.labels(fn), desired)
  }

  /**
   * Recomputes `roost_instances` from the whole list: every version in
   * `versions` (the versions that exist, with or without instances) or in
   * `list` gets a count per state, zeros included; every other version's
   * label sets are removed from all series here.
   */
  setInstances (list: InstanceRef[], versions: FunctionVersionRef[] = []): void {
    const counts = new Map<string, { labels: VersionLabels, byState: Record<InstanceState, number> }>()
    const entry = (labels: VersionLabels): Record<InstanceState, number> => {
      const key = versionKey(labels)
      let found = counts.get(key)
      if (found === undefined) {
        found = { labels, byState: { starting: 0, ready: 0, draining: 0 } }
        counts.set(key, found)
      }
      return found.byState
    }
    for (const fn of versions) entry(toLabels(fn))
    for (const instance of list) {
      const byState = entry({ namespace: instance.namespace, function: instance.function, version: String(instance.version) })
      if (instance.state in byState) byState[instance.state]++
    }
    for (const [key, labels] of this.known) if (!counts.has(key)) this.forget(labels)
    const known = new Map<string, VersionLabels>()
    for (const [key, { labels, byState }] of counts) {
      for (const state of STATES) this.instances.set({ ...labels, state }, byState[state])
      known.set(key, labels)
    }
    this.known = known
  }

  /** Recomputes the queue series from the whole list: a queue no longer consumed leaves /metrics. */
  setQueues (queues: ReadonlyArray<{ namespace: string, queue: string, connector: string, up: boolean | undefined, backlog: number }>): void {
    this.connectorUp.reset()
    this.queueBacklog.reset()
    for (const q of queues) {
      const labels = { namespace: q.namespace, queue: q.queue, connector: q.connector }
      this.queueBacklog.set(labels, q.backlog)
      if (q.up !== undefined) this.connectorUp.set(labels, q.up ? 1 : 0)
    }
  }

  warmPoolSize (n: number): void {
    this.warmPool.set(n)
  }

  /** The Prometheus text of every series here. */
  async text (): Promise<string> {
    return await this.registry.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }

  private labels (fn: FunctionVersionRef): VersionLabels {
    const labels = toLabels(fn)
    const key = versionKey(labels)
    if (!this.known.has(key)) this.known.set(key, labels)
    return labels
  }

  private forget (labels: VersionLabels): void {
    for (const state of STATES) this.instances.remove({ ...labels, state })
    this.desired.remove(labels)
    for (const direction of ['up', 'down']) this.decisions.remove({ ...labels, direction })
    for (const pool of ['hit', 'miss']) {
      this.starts.remove({ ...labels, pool })
      this.startsTotal.remove({ ...labels, pool })
    }
  }
}

/**
 * prom-client's defaults include gauges named `…_total` (nodejs_active_handles_total
 * and its kin), which the exposition rules keep for counters and promtool rejects;
 * each is the sum of a by-type gauge served beside it, so nothing is lost.
 */
function dropMisnamedGauges (registry: Registry): void {
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string, type: string }
    if (name.endsWith('_total') && type !== 'counter') registry.removeSingleMetric(name)
  }
}

function toLabels (fn: FunctionVersionRef): VersionLabels {
  return { namespace: fn.namespace, function: fn.name, version: String(fn.version) }
}

function versionKey (labels: VersionLabels): string {
  return `${labels.namespace}/${labels.function}@${labels.version}`
}
