import type { FunctionResource, FunctionSpec } from '../api/function-schema.js'
import { resolveLimits } from '../api/limits.js'
import { effectiveTraffic, type VersionConfig } from '../api/version-config.js'
import type { RoutedFunction, RoutingTable } from '../gateway/index.js'
import { versionKey, type InstanceManager, type VersionTarget } from '../instances/index.js'
import type { Store, StoredResource } from '../store/index.js'
import type { BundleFiles } from './bundle-files.js'

export type StoredFunction = StoredResource<FunctionSpec>

export interface RoutingSink {
  pushTable (table: RoutingTable): void
}

export interface FunctionControllerOptions {
  /** Requests a version may hold waiting for an instance before answering 503. */
  queueLimit: number
}

/**
 * Function → versions → desired instances and routes. Level-triggered: every
 * change (store watch, instance change) schedules one full reconcile that
 * computes the wanted state from scratch, so missed or repeated events are
 * harmless and a restart reaches the same state.
 */
export class FunctionController {
  private scheduled = false
  private routed: RoutedFunction[] = []
  private revision = 0
  private unwatch: (() => void) | null = null
  private tablePending = false

  constructor (
    private readonly store: Store,
    private readonly instances: InstanceManager,
    private readonly gateway: RoutingSink,
    private readonly bundles: BundleFiles,
    private readonly options: FunctionControllerOptions
  ) {}

  start (): void {
    this.unwatch = this.store.watch(() => this.schedule())
    this.reconcile()
  }

  stop (): void {
    this.unwatch?.()
    this.unwatch = null
  }

  /** Coalesces bursts of changes (an apply writes several rows) into one reconcile. */
  schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.reconcile()
    })
  }

  /** The instance set changed: the gateway needs the new table, nothing else does. */
  instancesChanged (): void {
    if (this.tablePending) return
    this.tablePending = true
    queueMicrotask(() => {
      this.tablePending = false
      this.pushTable()
    })
  }

  reconcile (): void {
    const targets: VersionTarget[] = []
    const routed: RoutedFunction[] = []
    for (const fn of this.store.listResources<FunctionSpec>('Function')) {
      const desired = this.desiredFor(fn)
      if (desired === null) continue
      targets.push(...desired.targets)
      routed.push(desired.route)
    }
    this.routed = routed
    // Routes first: a new version's instance must find its route when it is ready.
    this.pushTable()
    this.instances.setTargets(targets)
  }

  private desiredFor (fn: StoredFunction): { targets: VersionTarget[], route: RoutedFunction } | null {
    const { namespace, name } = fn
    const versions = new Map(this.store.listVersions<VersionConfig>(namespace, name).map((v) => [v.number, v]))
    if (versions.size === 0) return null
    const latest = Math.max(...versions.keys())
    const spec = fn.spec
    const scale = resolveLimits(spec).scale
    const traffic = effectiveTraffic(spec, latest).filter((target) => versions.has(target.version))
    if (traffic.length === 0) return null
    const targets: VersionTarget[] = []
    const route: RoutedFunction = {
      key: `${namespace}/${name}`,
      namespace,
      name,
      paths: spec.http.path === undefined ? [] : [spec.http.path],
      versions: [],
      traffic
    }
    for (const target of traffic) {
      const version = versions.get(target.version)
      if (version === undefined) continue
      const key = versionKey(namespace, name, version.number)
      const config = version.config
      route.versions.push({ key, version: version.number, timeoutMs: config.timeoutMs, concurrency: config.concurrency, queueLimit: this.options.queueLimit })
      targets.push({
        key,
        fn: { namespace, name, version: version.number },
        bundlePath: this.bundles.pathOf(version.bundleHash),
        env: config.env,
        timeoutMs: config.timeoutMs,
        memoryMiB: config.memoryMiB,
        // A version reached only by its tag keeps no idle instances.
        min: target.percent > 0 ? scale.min : 0,
        active: true
      })
    }
    return { targets, route }
  }

  private pushTable (): void {
    this.gateway.pushTable({
      revision: ++this.revision,
      functions: this.routed,
      instances: this.instances.list()
        .filter((instance) => instance.port > 0)
        .map((instance) => ({ id: instance.id, versionKey: instance.versionKey, host: instance.host, port: instance.port, state: instance.state }))
    })
  }
}

export function functionOf (fn: StoredFunction): FunctionResource {
  return {
    apiVersion: 'roost.dev/v1',
    kind: 'Function',
    metadata: { name: fn.name, namespace: fn.namespace, labels: fn.labels },
    spec: fn.spec
  }
}
