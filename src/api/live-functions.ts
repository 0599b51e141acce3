import type { EventStore } from '../events/index.js'
import type { FunctionGovernanceState } from '../gateway/index.js'
import type { Store, StoredResource } from '../store/index.js'
import type { BrokerQueues } from './broker-queues.js'
import type { FunctionSpec } from './function-schema.js'
import { viewFunction, type FunctionView, type InstanceSummary, type IsolationView, type VersionScaling } from './function-view.js'
import type { VersionConfig } from './version-config.js'

/** The part of the running platform the route files need (server.ts's LiveView has it all). */
export interface LiveFunctions {
  instances (): InstanceSummary[]
  serving (namespace: string, name: string): Array<{ version: number, percent: number, tag?: string }> | undefined
  scaling (namespace: string, name: string, version: number): VersionScaling | undefined
  /** The isolation a namespace's instances run under. */
  isolation? (namespace: string): IsolationView
  /** Resolves once the data plane routes what the store holds now (bounded; never rejects). */
  settle? (): Promise<void>
  /** Records were published or replayed into a queue: the dispatcher delivers them now. */
  queuePublished? (namespace: string, queue: string): void
  /** The live state of the function's governance rules, as of the gateway's last report. */
  governance? (namespace: string, name: string): FunctionGovernanceState | undefined
  /** The queues brokers hold (broker triggers), with their conditions. */
  brokerQueues?: BrokerQueues
}

/** What the route files beside server.ts are given. */
export interface RouteDeps {
  store: Store
  live: LiveFunctions
  /** The events database (queues, async invocations, cron firings); absent in an API without one. */
  events?: EventStore
}

/** Functions as the API shows them, with status from versions and live instances. */
export function viewFunctions (store: Store, live: LiveFunctions, functions: Array<StoredResource<FunctionSpec>>): FunctionView[] {
  const instances = live.instances()
  return functions.map((fn) => viewFunction(fn, store.listVersions<VersionConfig>(fn.namespace, fn.name), instances, {
    scaling: (version) => live.scaling(fn.namespace, fn.name, version),
    serving: live.serving(fn.namespace, fn.name),
    isolation: live.isolation?.(fn.namespace),
    brokers: live.brokerQueues?.statuses().filter((b) => b.namespace === fn.namespace && b.function === fn.name)
  }))
}
