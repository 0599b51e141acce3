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
}

export interface Condition {
  type: 'Ready'
  status: 'True' | 'False'
  reason: string
  message: string
}

export interface FunctionStatus {
  latestVersion: number
  traffic: Array<{ version: number, percent: number, tag?: string }>
  instances: { ready: number, starting: number, draining: number }
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
export function viewFunction (fn: StoredResource<FunctionSpec>, versions: Array<StoredVersion<VersionConfig>>, instances: InstanceSummary[]): FunctionView {
  const latestVersion = versions.length === 0 ? 0 : versions[versions.length - 1].number
  const traffic = effectiveTraffic(fn.spec, latestVersion)
  const own = instances.filter((i) => i.namespace === fn.namespace && i.function === fn.name)
  const counts = { ready: 0, starting: 0, draining: 0 }
  for (const instance of own) counts[instance.state]++
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
    status: { latestVersion, traffic, instances: counts, conditions: [readyCondition(fn.spec, counts)] }
  }
}

function readyCondition (spec: FunctionSpec, counts: FunctionStatus['instances']): Condition {
  if (counts.ready > 0) return { type: 'Ready', status: 'True', reason: 'InstancesReady', message: `${counts.ready} instance(s) ready` }
  if (spec.scale.min === 0 && counts.starting === 0) {
    return { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'no instance runs; the first request starts one' }
  }
  return { type: 'Ready', status: 'False', reason: 'Starting', message: `${counts.starting} instance(s) starting` }
}
