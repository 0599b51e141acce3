import type { StoredResource, StoredVersion } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'
import { effectiveTraffic, type VersionConfig } from './version-config.js'

/** An instance as the API reports it; the instance manager supplies these. */
export interface InstanceSummary {
  id: string
  namespace: string
  function: string
  version: number
  state: 'starting' | 'ready' | 'draining'
  pid: number | null
  port: number
  startedAt: number
  readyAt: number | null
  /** Requests in flight on it, as the gateway last reported (each second). */
  inFlight: number
  /** It came from the warm pool rather than a new process. */
  pooled: boolean
}

/** What the autoscaler knows of one version; the platform supplies it. */
export interface VersionScaling {
  desired: number
  floor: number
  panic: boolean
  observed: { stable: { concurrency: number, rps: number }, panic: { concurrency: number, rps: number } }
  lastDecision: { at: number, from: number, to: number, reason: string, message: string } | null
}

/** What the platform knows of one function beyond the store. */
export interface FunctionLive {
  scaling (version: number): VersionScaling | undefined
  /** Routed now; undefined when the controller has not routed the function yet. */
  serving: TrafficTarget[] | undefined
}

type TrafficTarget = { version: number, percent: number, tag?: string }

export interface VersionStatus {
  version: number
  desired: number
  ready: number
  starting: number
  draining: number
  panic: boolean
  /** Stable-window averages the autoscaler last worked from. */
  observed: { concurrency: number, rps: number }
  lastScale: { time: string, message: string } | null
}

export interface Condition {
  type: 'Ready' | 'RolledOut'
  status: 'True' | 'False'
  reason: string
  message: string
}

export interface FunctionStatus {
  latestVersion: number
  /** The traffic the spec asks for (all to the latest version without spec.traffic). */
  traffic: TrafficTarget[]
  /** The traffic routed now: it stays on the serving versions until a new one has a ready instance. */
  serving: TrafficTarget[]
  instances: { desired: number, ready: number, starting: number, draining: number }
  versions: VersionStatus[]
  conditions: Condition[]
}

export interface FunctionView {
  apiVersion: 'roost.dev/v1'
  kind: 'Function'
  metadata: {
    name: string
    namespace: string
    labels: Record<string, string>
    uid: string
    resourceVersion: string
    generation: number
    creationTimestamp: string
    updateTimestamp: string
  }
  spec: FunctionSpec
  status: FunctionStatus
}

/**
 * A function as the API shows it. Status is derived on read from versions and
 * live instances, so it can never be stale after a restart.
 */
export function viewFunction (
  fn: StoredResource<FunctionSpec>,
  versions: Array<StoredVersion<VersionConfig>>,
  instances: InstanceSummary[],
  live: FunctionLive = { scaling: () => undefined, serving: undefined }
): FunctionView {
  const latestVersion = versions.length === 0 ? 0 : versions[versions.length - 1].number
  const traffic = effectiveTraffic(fn.spec, latestVersion)
  const own = instances.filter((i) => i.namespace === fn.namespace && i.function === fn.name)
  const counts = { desired: 0, ready: 0, starting: 0, draining: 0 }
  for (const instance of own) counts[instance.state]++
  const perVersion = versionStatuses(versions, own, live.scaling)
  const serving = live.serving ?? traffic
  for (const v of perVersion) counts.desired += v.desired
  return {
    apiVersion: 'roost.dev/v1',
    kind: 'Function',
    metadata: {
      name: fn.name,
      namespace: fn.namespace,
      labels: fn.labels,
      uid: fn.uid,
      resourceVersion: String(fn.resourceVersion),
      generation: fn.generation,
      creationTimestamp: fn.createdAt,
      updateTimestamp: fn.updatedAt
    },
    spec: fn.spec,
    status: { latestVersion, traffic, serving, instances: counts, versions: perVersion, conditions: [readyCondition(fn.spec, counts), rolledOutCondition(traffic, serving)] }
  }
}

// Versions the autoscaler scales or that still have instances, oldest first.
function versionStatuses (versions: Array<StoredVersion<VersionConfig>>, instances: InstanceSummary[], scaling: (version: number) => VersionScaling | undefined): VersionStatus[] {
  const statuses: VersionStatus[] = []
  for (const { number } of versions) {
    const scale = scaling(number)
    const own = instances.filter((i) => i.version === number)
    if (scale === undefined && own.length === 0) continue
    const status: VersionStatus = {
      version: number,
      desired: scale?.desired ?? 0,
      ready: 0,
      starting: 0,
      draining: 0,
      panic: scale?.panic ?? false,
      observed: scale?.observed.stable ?? { concurrency: 0, rps: 0 },
      lastScale: scale?.lastDecision == null ? null : { time: new Date(scale.lastDecision.at).toISOString(), message: scale.lastDecision.message }
    }
    for (const instance of own) status[instance.state]++
    statuses.push(status)
  }
  return statuses
}

function rolledOutCondition (traffic: TrafficTarget[], serving: TrafficTarget[]): Condition {
  const key = (t: TrafficTarget[]): string => t.filter((e) => e.percent > 0).map((e) => `${e.version}:${e.percent}`).sort().join(',')
  if (key(traffic) === key(serving)) return { type: 'RolledOut', status: 'True', reason: 'Serving', message: 'the traffic is routed as the spec asks' }
  const waiting = traffic.filter((t) => t.percent > 0 && !serving.some((s) => s.version === t.version && s.percent > 0)).map((t) => `v${t.version}`)
  return { type: 'RolledOut', status: 'False', reason: 'WaitingForReady', message: `routes move once ${waiting.join(', ')} has a ready instance; until then ${serving.filter((s) => s.percent > 0).map((s) => `v${s.version} ${s.percent}%`).join(', ')} serves` }
}

function readyCondition (spec: FunctionSpec, counts: FunctionStatus['instances']): Condition {
  if (counts.ready > 0) return { type: 'Ready', status: 'True', reason: 'InstancesReady', message: `${counts.ready} instance(s) ready of ${counts.desired} desired` }
  if (spec.scale.min === 0 && counts.starting === 0) {
    return { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'no instance runs; the first request starts one' }
  }
  return { type: 'Ready', status: 'False', reason: 'Starting', message: `${counts.starting} instance(s) starting` }
}
