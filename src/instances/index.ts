export type { Driver, DriverIsolation, InstanceEvents, InstanceExit, LaunchOptions, PongReport, RunningInstance } from './driver.js'
export { LocalProcessDriver, PIDS_MAX, type LocalProcessDriverOptions } from './local-process-driver.js'
export { InstanceManager } from './instance-manager.js'
export type { InstanceCounts, InstanceInfo, InstanceLogLine, InstanceEvent, InstanceManagerHooks, InstanceManagerOptions, InstanceRoute, InstanceState, VersionTarget } from './instance-manager.js'
export { DEFAULT_MEMORY_MIB, WarmPool } from './warm-pool.js'
export type { TakenProcess, WarmPoolHooks, WarmPoolOptions, WarmProcessInfo, WarmProcessState } from './warm-pool.js'
export { parseChildMessage, MAX_LOG_LINES_PER_MESSAGE, MAX_LOG_LINE_CHARS, type ChildMessage, type ControlLogLine, type LoadMessage, type ParentMessage } from './control-messages.js'
export { LineSplitter } from './line-splitter.js'
export { LogRateLimit, TokenBucket } from './log-rate-limit.js'
export { memoryBudget, MIN_PROCESS_MIB } from './memory-budget.js'
export type { Clock } from './clock.js'

/** The key naming one version of one function everywhere in the platform. */
export function versionKey (namespace: string, name: string, version: number): string {
  return `${namespace}/${name}@${version}`
}
