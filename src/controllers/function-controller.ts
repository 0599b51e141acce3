import type { FunctionResource, FunctionSpec } from '../api/function-schema.js'
import { API_KEY_KIND, SECRET_KIND, callerAuthOf, governedFunctionOf, listRules, ruleOf } from '../api/index.js'
import { compilePolicies, type CallerAuth, type CompiledPolicy, type GovernedFunction } from '../governance/index.js'
import { resolveLimits } from '../api/limits.js'
import { effectiveTraffic, instanceEnv, type VersionConfig } from '../api/version-config.js'
import type { ScaledVersion } from '../autoscaler/index.js'
import type { RoutedFunction, RoutingTable, TrafficTarget } from '../gateway/index.js'
import { versionKey, type InstanceInfo, type InstanceRoute, type VersionTarget } from '../instances/index.js'
import type { Store, StoredResource, StoredVersion } from '../store/index.js'
import type { BundleFiles } from './bundle-files.js'

export type StoredFunction = StoredResource<FunctionSpec>

export interface RoutingSink {
  pushTable (table: RoutingTable): void
  /** Resolves once the gateway applies the table of this revision (or a later one). */
  tableApplied? (revision: number): Promise<void>
}

/** What the controller needs of the instance manager. */
export interface InstanceTargets {
  setTargets (targets: VersionTarget[]): void
  list (): InstanceInfo[]
  /** Listening instances with their socket and secret, for the routing table only. */
  routes (): InstanceRoute[]
}

/** What the controller needs of the autoscaler: it owns the counts. */
export interface ScaleOwner {
  setVersions (versions: readonly ScaledVersion[]): void
  desired (versionKey: string): number
  /** Takes a version from zero to one instance now. */
  activate (versionKey: string, why?: 'activation' | 'new-version'): void
}

/** The last failed start of a version that has had no ready instance since. */
export interface StartFailure {
  reason: string
  /** Epoch ms. */
  at: number
}

export interface FunctionControllerOptions {
  /** Requests a version may hold waiting for an instance before answering 503. */
  queueLimit: number
}

interface DesiredFunction {
  route: RoutedFunction
  scaled: ScaledVersion[]
  targets: Array<Omit<VersionTarget, 'replicas'>>
  /** Traffic wanted but not routed yet: a new version is still coming up. */
  pending: boolean
  /** Versions with traffic that have never had a ready instance. */
  unproven: string[]
}

/**
 * Function → versions → desired instances and routes. Level-triggered: every
 * change (store watch, instance change) schedules one full reconcile that
 * computes the wanted state from scratch, so missed or repeated events are
 * harmless and a restart reaches the same state.
 *
 * A rollout is lossless because traffic moves only to versions that can take
 * it: while a newly wanted version has no ready instance and the versions
 * serving now do, the function keeps its current routes and the new version
 * is held at one instance until it is ready.
 */
export class FunctionController {
  private scheduled = false
  private routed: RoutedFunction[] = []
  /** Per function, the traffic the gateway was last given. */
  private readonly served = new Map<string, TrafficTarget[]>()
  private pending = false
  private revision = 0
  private unwatch: (() => void) | null = null
  private tablePending = false
  private stopped = false
  private immediate: NodeJS.Immediate | null = null
  /** Per version key, the last failed start; cleared once the version has a ready instance. */
  private readonly failures = new Map<string, StartFailure>()
  /** Version keys known to start: they had a ready instance, or existed when the controller started. */
  private proven = new Set<string>()
  /** Unproven versions started once (as Knative's initial scale of 1), so their status can tell. */
  private readonly tried = new Set<string>()
  /** The last compiled governance, and what it was compiled from (every resourceVersion involved). */
  private policies: { from: string, compiled: Map<string, CompiledPolicy> } = { from: '', compiled: new Map() }

  constructor (
    private readonly store: Store,
    private readonly instances: InstanceTargets,
    private readonly autoscaler: ScaleOwner,
    private readonly gateway: RoutingSink,
    private readonly bundles: BundleFiles,
    private readonly options: FunctionControllerOptions
  ) {}

  /** The traffic the gateway routes for a function now; it lags the spec while a new version comes up. */
  serving (namespace: string, name: string): TrafficTarget[] | undefined {
    return this.served.get(`${namespace}/${name}`)
  }

  /**
   * A start of this version failed (the instance manager says why). Its
   * status shows it until an instance is ready, and a rollout does not move
   * routes onto it while the versions serving now can still start.
   */
  startFailed (key: string, reason: string): void {
    this.failures.set(key, { reason, at: Date.now() })
    this.schedule()
  }

  /** Why a version cannot start, if its last start failed and none of its instances is ready. */
  startFailure (namespace: string, name: string, version: number): StartFailure | undefined {
    const key = versionKey(namespace, name, version)
    const failure = this.failures.get(key)
    if (failure === undefined) return undefined
    if (this.instances.list().some((instance) => instance.versionKey === key && instance.state === 'ready')) {
      this.failures.delete(key)
      return undefined
    }
    return failure
  }

  start (): void {
    // What was deployed before this start is taken to start as it did then.
    for (const fn of this.store.listResources<FunctionSpec>('Function')) {
      for (const version of this.store.listVersions(fn.namespace, fn.name)) this.proven.add(versionKey(fn.namespace, fn.name, version.number))
    }
    this.unwatch = this.store.watch(() => this.schedule())
    this.reconcile()
  }

  /** After this, nothing reconciles again: the store may close. */
  stop (): void {
    this.stopped = true
    this.unwatch?.()
    this.unwatch = null
    if (this.immediate !== null) clearImmediate(this.immediate)
    this.immediate = null
  }

  /** Coalesces bursts of changes (an apply writes several rows) into one reconcile. */
  schedule (): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    this.immediate = setImmediate(() => {
      this.immediate = null
      this.scheduled = false
      this.reconcile()
    })
  }

  /**
   * The instance set changed: the gateway needs the new table; and when a
   * rollout waits for a version to become ready, the routes may move now.
   */
  instancesChanged (): void {
    if (this.pending) {
      this.schedule()
      return
    }
    if (this.tablePending) return
    this.tablePending = true
    queueMicrotask(() => {
      this.tablePending = false
      this.pushTable()
    })
  }

  /**
   * Reconciles now and resolves once the gateway routes what the store holds:
   * an API write answers after this, so a caller that was told "created" is
   * not answered 404 by the next request.
   */
  settle (): Promise<void> {
    this.reconcile()
    return this.gateway.tableApplied?.(this.revision) ?? Promise.resolve()
  }

  reconcile (): void {
    const ready = readyVersions(this.instances.list())
    for (const key of ready) this.proven.add(key)
    const routed: RoutedFunction[] = []
    const scaled: ScaledVersion[] = []
    const targets: Array<Omit<VersionTarget, 'replicas'>> = []
    const live = new Set<string>()
    let pending = false
    const unproven: string[] = []
    const existing = new Set<string>()
    const functions = this.store.listResources<FunctionSpec>('Function')
    const policies = this.compiledPolicies(functions)
    for (const fn of functions) {
      const desired = this.desiredFor(fn, ready, existing, policies.get(`${fn.namespace}/${fn.name}`))
      if (desired === null) continue
      live.add(desired.route.key)
      routed.push(desired.route)
      scaled.push(...desired.scaled)
      targets.push(...desired.targets)
      pending ||= desired.pending
      unproven.push(...desired.unproven)
    }
    for (const key of this.served.keys()) if (!live.has(key)) this.served.delete(key)
    for (const key of this.failures.keys()) if (ready.has(key) || !targets.some((target) => target.key === key)) this.failures.delete(key)
    for (const key of this.proven) if (!existing.has(key)) this.proven.delete(key)
    this.routed = routed
    this.pending = pending
    this.autoscaler.setVersions(scaled)
    // A new version starts one instance at once, even at min 0: until one has
    // been ready nobody knows it can start, and status must not guess.
    for (const key of unproven) {
      if (this.tried.has(key)) continue
      this.tried.add(key)
      this.autoscaler.activate(key, 'new-version')
    }
    for (const key of this.tried) if (!existing.has(key)) this.tried.delete(key)
    // Routes first: a new version's instance must find its route when it is ready,
    // and a version leaving the routes must be gone from the gateway before it drains.
    this.pushTable()
    this.instances.setTargets(targets.map((target) => ({ ...target, replicas: this.autoscaler.desired(target.key) })))
  }

  /**
   * Every function's governance, compiled from the functions and rules the
   * store holds. A reconcile runs on every change of anything, most of them
   * not of a rule or a function's spec: the last result is kept until one of
   * those changes, so rules are compiled once per change of rules.
   */
  private compiledPolicies (functions: StoredFunction[]): Map<string, CompiledPolicy> {
    const rules = listRules(this.store)
    // A function's caller check reads its API keys and the Secrets it names: a key revoked or a secret rotated must reach the gateway too.
    const credentials = [...this.store.listResources(API_KEY_KIND), ...this.store.listResources(SECRET_KIND)]
    const from = [...functions, ...rules, ...credentials].map((r) => `${r.kind}/${r.namespace}/${r.name}@${r.generation}:${r.uid}`).join('\n')
    if (from !== this.policies.from) {
      const byKey = new Map(functions.map((fn) => [`${fn.namespace}/${fn.name}`, fn]))
      const authOf = (governed: GovernedFunction): CallerAuth => {
        const fn = byKey.get(`${governed.namespace}/${governed.name}`)
        return fn === undefined ? { mode: 'none' } : callerAuthOf(this.store, fn)
      }
      this.policies = { from, compiled: compilePolicies(functions.map(governedFunctionOf), rules.map(ruleOf), { authOf }) }
    }
    return this.policies.compiled
  }

  /** What one function wants running and routed; `existing` collects the keys of its versions. */
  private desiredFor (fn: StoredFunction, ready: Set<string>, existing: Set<string>, governance: CompiledPolicy | undefined): DesiredFunction | null {
    const { namespace, name } = fn
    const fnKey = `${namespace}/${name}`
    const versions = new Map(this.store.listVersions<VersionConfig>(namespace, name).map((v) => [v.number, v]))
    for (const number of versions.keys()) existing.add(versionKey(namespace, name, number))
    if (versions.size === 0) return null
    const latest = Math.max(...versions.keys())
    const spec = fn.spec
    const wanted = effectiveTraffic(spec, latest).filter((target) => versions.has(target.version))
    if (wanted.length === 0) return null
    const served = this.servedTraffic(fnKey, wanted, versions, ready)
    this.served.set(fnKey, served)
    const limits = resolveLimits(spec)
    const route: RoutedFunction = {
      key: fnKey,
      namespace,
      name,
      paths: spec.http.path === undefined ? [] : [spec.http.path],
      ...(spec.http.host === undefined ? {} : { host: spec.http.host }),
      versions: [],
      traffic: served,
      ...(governance === undefined ? {} : { governance: governance.policy })
    }
    const result: DesiredFunction = { route, scaled: [], targets: [], pending: served !== wanted, unproven: [] }
    const weightOf = (traffic: TrafficTarget[], version: number): number => traffic.find((t) => t.version === version)?.percent ?? 0
    const involved = new Set([...served, ...wanted].map((t) => t.version))
    for (const number of [...involved].sort((a, b) => a - b)) {
      const version = versions.get(number) as StoredVersion<VersionConfig>
      const key = versionKey(namespace, name, number)
      const config = version.config
      if (served.some((t) => t.version === number)) {
        route.versions.push({ key, version: number, timeoutMs: config.timeoutMs, concurrency: config.concurrency, queueLimit: this.options.queueLimit })
      }
      const weighted = weightOf(served, number) > 0
      if (weightOf(wanted, number) > 0 && !this.proven.has(key)) result.unproven.push(key)
      result.scaled.push({
        key,
        fn: { namespace, name, version: number },
        policy: {
          // A version reached only by its tag keeps no idle instances.
          min: weighted ? limits.scale.min : 0,
          max: limits.scale.max,
          metrics: limits.scale.metrics,
          utilization: limits.scale.utilization,
          windowMs: limits.scale.windowMs,
          scaleDownDelayMs: limits.scale.scaleDownDelayMs,
          instanceConcurrency: config.concurrency
        },
        schedule: weighted ? limits.scale.schedule : [],
        // Wanted but not routed yet: it must come up before traffic moves to it.
        pin: weightOf(wanted, number) > 0 && !weighted ? 1 : 0
      })
      result.targets.push({
        key,
        fn: { namespace, name, version: number },
        bundlePath: this.bundles.pathOf(version.bundleHash, namespace),
        env: instanceEnv(config),
        timeoutMs: config.timeoutMs,
        memoryMiB: config.memoryMiB
      })
    }
    return result
  }

  /**
   * The traffic to route now: what is wanted, unless a newly weighted version
   * has no ready instance while the versions serving now have one, or while
   * it has never started (or failed to) and they have not failed; then the
   * current routes stay (with the wanted tag-only routes added) until it is ready.
   */
  private servedTraffic (fnKey: string, wanted: TrafficTarget[], versions: Map<number, unknown>, ready: Set<string>): TrafficTarget[] {
    const previous = this.served.get(fnKey)?.filter((t) => versions.has(t.version))
    if (previous === undefined || previous.every((t) => t.percent === 0)) return wanted
    const isReady = (version: number): boolean => ready.has(`${fnKey}@${version}`)
    const wasWeighted = (version: number): boolean => previous.some((t) => t.version === version && t.percent > 0)
    const waiting = wanted.some((t) => t.percent > 0 && !isReady(t.version) && !wasWeighted(t.version))
    if (!waiting) return wanted
    const failed = (version: number): boolean => this.failures.has(`${fnKey}@${version}`)
    const unproven = wanted.some((t) => t.percent > 0 && !isReady(t.version) && !wasWeighted(t.version) && (failed(t.version) || !this.proven.has(`${fnKey}@${t.version}`)))
    // A version at zero that did not fail can serve: the gateway starts it on demand.
    const canServe = (t: TrafficTarget): boolean => t.percent > 0 && (isReady(t.version) || (unproven && !failed(t.version)))
    if (!previous.some(canServe)) return wanted
    const tagOnly = wanted.filter((t) => t.percent === 0 && !previous.some((p) => p.version === t.version))
    return [...previous.filter((t) => t.percent > 0).map((t) => ({ version: t.version, percent: t.percent })), ...tagOnly]
  }

  private pushTable (): void {
    this.gateway.pushTable({
      revision: ++this.revision,
      functions: this.routed,
      instances: this.instances.routes()
    })
  }
}

function readyVersions (instances: InstanceInfo[]): Set<string> {
  const ready = new Set<string>()
  for (const instance of instances) if (instance.state === 'ready') ready.add(instance.versionKey)
  return ready
}

export function functionOf (fn: StoredFunction): FunctionResource {
  return {
    apiVersion: 'roost.dev/v1',
    kind: 'Function',
    metadata: { name: fn.name, namespace: fn.namespace, labels: fn.labels },
    spec: fn.spec
  }
}
