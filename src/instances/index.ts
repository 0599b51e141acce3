export type { Driver, InstanceEvents, InstanceExit, LaunchOptions, RunningInstance } from './driver.js'
export { LocalProcessDriver } from './local-process-driver.js'
export { InstanceManager } from './instance-manager.js'
export type { InstanceCounts, InstanceInfo, InstanceLogLine, InstanceEvent, InstanceManagerHooks, InstanceManagerOptions, InstanceState, VersionTarget } from './instance-manager.js'
export { DEFAULT_MEMORY_MIB, WarmPool } from './warm-pool.js'
export type { TakenProcess, WarmPoolHooks, WarmPoolOptions, WarmProcessInfo, WarmProcessState } from './warm-pool.js'

/** The key naming one version of one function everywhere in the platform. */
export function versionKey (namespace: string, name: string, version: number): string {
  return `${namespace}/${name}@${version}`
}
