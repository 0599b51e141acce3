import type { BrokerTriggerStatus } from './broker-queues.js'
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

/** Why a version's last start failed (none of its instances has been ready since). */
export interface StartFailure {
  reason: string
  /** Epoch ms. */
  at: number
}

/** What the platform knows of one function beyond the store. */
export interface FunctionLive {
  scaling (version: number): VersionScaling | undefined
  /** Routed now; undefined when the controller has not routed the function yet. */
  serving: TrafficTarget[] | undefined
  /** The version's last start failed and it has no ready instance. */
  startFailure?: (version: number) => StartFailure | undefined
  /** The isolation its instances run under. */
  isolation?: IsolationView
  /** Its broker triggers as the platform runs them. */
  brokers?: BrokerTriggerStatus[]
}

/** Which isolation instances run under, and what it means (one line each). */
export interface IsolationView {
  mode: string
  details: string[]
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
  /** Ready: whether this version can serve; False with reason StartFailed and the cause when it cannot start. */
  conditions: Condition[]
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
  /** The isolation in force for this function's instances. */
  isolation?: IsolationView
  /** One condition per broker-backed queue trigger (absent without one): whether its broker is reachable and the trigger consumes. */
  triggers?: TriggerCondition[]
}

export interface TriggerCondition {
  queue: string
  connector: string
  url: string
  type: 'BrokerConnected'
  status: 'True' | 'False' | 'Unknown'
  /** Connected, Connecting, BrokerUnavailable, BrokerMissing, BrokerUnsupported, SecretMissing. */
  reason: string
  message: string
  server: string | null
  backlog: number | null
  lastTransitionTime: string | null
}

/** The metadata of every stored object as the API shows it (functions, rules). */
export interface ObjectMetadata {
  name: string
  namespace: string
  labels: Record<string, string>
  uid: string
  resourceVersion: string
  generation: number
  creationTimestamp: string
  updateTimestamp: string
}

export interface FunctionView {
  apiVersion: 'roost.dev/v1'
  kind: 'Function'
  metadata: ObjectMetadata
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
  const failureOf = live.startFailure ?? (() => undefined)
  const perVersion = versionStatuses(versions, own, live.scaling, failureOf)
  const serving = live.serving ?? traffic
  for (const v of perVersion) counts.desired += v.desired
  const failed = new Map(perVersion.flatMap((v) => {
    const failure = failureOf(v.version)
    return failure === undefined || v.ready > 0 ? [] : [[v.version, failure.reason] as const]
  }))
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
    status: {
      latestVersion, traffic, serving, instances: counts, versions: perVersion,
      conditions: [readyCondition(fn.spec, counts, serving, failed), rolledOutCondition(traffic, serving, failed, unready(fn.spec, traffic, perVersion))],
      ...(live.isolation === undefined ? {} : { isolation: live.isolation }),
      ...triggerConditions(fn.spec, live.brokers)
    }
  }
}

function triggerConditions (spec: FunctionSpec, brokers: BrokerTriggerStatus[] | undefined): { triggers?: TriggerCondition[] } {
  const triggers: TriggerCondition[] = []
  for (const trigger of spec.triggers ?? []) {
    if (!('queue' in trigger) || trigger.queue.connector === undefined) continue
    const q = trigger.queue
    const live = brokers?.find((b) => b.queue === q.name)
    triggers.push({
      queue: q.name, connector: q.connector as string, url: q.url ?? '', type: 'BrokerConnected',
      status: live === undefined || live.state === 'Connecting' ? 'Unknown' : live.state === 'Connected' ? 'True' : 'False',
      reason: live?.reason ?? 'Connecting', message: live?.message ?? `connecting to ${q.url ?? ''}`, server: live?.server ?? null,
      backlog: live?.backlog === undefined ? null : live.backlog.waiting + live.backlog.inFlight,
      lastTransitionTime: live === undefined ? null : new Date(live.since).toISOString()
    })
  }
  return triggers.length === 0 ? {} : { triggers }
}

// Versions the autoscaler scales or that still have instances, oldest first.
function versionStatuses (
  versions: Array<StoredVersion<VersionConfig>>,
  instances: InstanceSummary[],
  scaling: (version: number) => VersionScaling | undefined,
  failureOf: (version: number) => StartFailure | undefined
): VersionStatus[] {
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
      lastScale: scale?.lastDecision == null ? null : { time: new Date(scale.lastDecision.at).toISOString(), message: scale.lastDecision.message },
      conditions: []
    }
    for (const instance of own) status[instance.state]++
    status.conditions.push(versionReadyCondition(status, failureOf(number)))
    statuses.push(status)
  }
  return statuses
}

function versionReadyCondition (status: VersionStatus, failure: StartFailure | undefined): Condition {
  if (status.ready > 0) return { type: 'Ready', status: 'True', reason: 'InstancesReady', message: `${status.ready} instance(s) ready of ${status.desired} desired` }
  if (failure !== undefined) return { type: 'Ready', status: 'False', reason: 'StartFailed', message: failure.reason }
  if (status.starting > 0) return { type: 'Ready', status: 'False', reason: 'Starting', message: `${status.starting} instance(s) starting` }
  return { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'no instance runs; the first request starts one' }
}

/** Versions that cannot start, as "v2 cannot start: <why>", for those of `targets` that carry traffic. */
function cannotStart (targets: TrafficTarget[], failed: ReadonlyMap<number, string>): string[] {
  return targets.filter((t) => t.percent > 0 && failed.has(t.version)).map((t) => `v${t.version} cannot start: ${failed.get(t.version) as string}`)
}

function servingText (serving: TrafficTarget[]): string {
  const weighted = serving.filter((s) => s.percent > 0)
  return weighted.length === 0 ? 'nothing serves' : `${weighted.map((s) => `v${s.version} ${s.percent}%`).join(', ')} serves`
}

/** Weighted versions that should have an instance and have none ready yet. */
function unready (spec: FunctionSpec, traffic: TrafficTarget[], versions: VersionStatus[]): string[] {
  return traffic.filter((t) => {
    if (t.percent === 0) return false
    const status = versions.find((v) => v.version === t.version)
    if (status === undefined) return spec.scale.min > 0
    return status.ready === 0 && (spec.scale.min > 0 || status.starting > 0 || status.desired > 0)
  }).map((t) => `v${t.version}`)
}

function rolledOutCondition (traffic: TrafficTarget[], serving: TrafficTarget[], failed: ReadonlyMap<number, string>, starting: string[]): Condition {
  const broken = cannotStart(traffic, failed)
  if (broken.length > 0) {
    const servedOk = serving.filter((s) => s.percent > 0 && !failed.has(s.version))
    return { type: 'RolledOut', status: 'False', reason: 'StartFailed', message: `${broken.join('; ')}; ${servingText(servedOk)}` }
  }
  const key = (t: TrafficTarget[]): string => t.filter((e) => e.percent > 0).map((e) => `${e.version}:${e.percent}`).sort().join(',')
  if (key(traffic) === key(serving)) {
    if (starting.length > 0) return { type: 'RolledOut', status: 'False', reason: 'Starting', message: `routed as the spec asks; ${starting.join(', ')} has no ready instance yet` }
    return { type: 'RolledOut', status: 'True', reason: 'Serving', message: 'the traffic is routed as the spec asks' }
  }
  const waiting = traffic.filter((t) => t.percent > 0 && !serving.some((s) => s.version === t.version && s.percent > 0)).map((t) => `v${t.version}`)
  return { type: 'RolledOut', status: 'False', reason: 'WaitingForReady', message: `routes move once ${waiting.join(', ')} has a ready instance; until then ${servingText(serving)}` }
}

function readyCondition (spec: FunctionSpec, counts: FunctionStatus['instances'], serving: TrafficTarget[], failed: ReadonlyMap<number, string>): Condition {
  if (counts.ready > 0) return { type: 'Ready', status: 'True', reason: 'InstancesReady', message: `${counts.ready} instance(s) ready of ${counts.desired} desired` }
  const broken = cannotStart(serving, failed)
  if (broken.length > 0) return { type: 'Ready', status: 'False', reason: 'StartFailed', message: broken.join('; ') }
  if (spec.scale.min === 0 && counts.starting === 0) {
    return { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'no instance runs; the first request starts one' }
  }
  return { type: 'Ready', status: 'False', reason: 'Starting', message: `${counts.starting} instance(s) starting` }
}
