import type { LoadMessage, RuntimeLogLine } from '../runtime/index.js'

// The seam between the instance manager and where instances run: local
// processes now, Kubernetes pods later. A new driver is one new file that
// implements this interface; the manager above it does not change.

export interface LaunchOptions {
  instanceId: string
  /** V8 heap limit of the instance, in MiB. */
  memoryMiB: number
}

export interface InstanceExit {
  code: number | null
  signal: string | null
  /** Human-readable cause: `exit code 1`, `out of memory`, `killed (SIGKILL)`. */
  reason: string
  outOfMemory: boolean
}

/** What a running instance reports back; the manager supplies these callbacks. */
export interface InstanceEvents {
  onListening (address: { host: string, port: number }): void
  onReady (loadMs: number): void
  onLoadFailed (reason: string): void
  onLogs (lines: RuntimeLogLine[], dropped: number): void
  onPong (id: number): void
  onDrained (): void
  onExit (exit: InstanceExit): void
}

export interface RunningInstance {
  readonly pid: number | undefined
  load (message: LoadMessage): void
  ping (id: number): void
  drain (): void
  /** Ends the instance at once; onExit follows. */
  kill (): void
}

export interface Driver {
  readonly name: string
  launch (options: LaunchOptions, events: InstanceEvents): RunningInstance
}
