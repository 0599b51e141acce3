export type { Driver, InstanceEvents, InstanceExit, LaunchOptions, RunningInstance } from './driver.js'
export { LocalProcessDriver } from './local-process-driver.js'
export { InstanceManager } from './instance-manager.js'
export type { InstanceInfo, InstanceLogLine, InstanceEvent, InstanceManagerHooks, InstanceManagerOptions, InstanceState, VersionTarget } from './instance-manager.js'

/** The key naming one version of one function everywhere in the platform. */
export function versionKey (namespace: string, name: string, version: number): string {
  return `${namespace}/${name}@${version}`
}
