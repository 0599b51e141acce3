import type { LoadMessage, RuntimeLogLine } from '../runtime/index.js'

// The seam between the instance manager and where instances run: local
// processes now, Kubernetes pods later. A new driver is one new file that
// implements this interface; the manager above it does not change.

export interface LaunchOptions {
  /**
   * A name for the process, for the driver's own bookkeeping (a pod name).
   * An instance learns its id from `load`: a warm process is launched before
   * anyone knows which instance it will become.
   */
  name: string
  /** V8 heap limit of the process, in MiB: the one setting fixed at spawn. */
  memoryMiB: number
  /**
   * Warm the process's lazy parts (web Request/Response, streams, the HTTP
   * parser) before it reports listening. Worth it for the warm pool, where
   * that happens while idle; a plain spawn would only move the cost from the
   * first request to the start.
   */
  warmUp?: boolean
}

export interface InstanceExit {
  code: number | null
  signal: string | null
  /** Human-readable cause: `exit code 1`, `out of memory`, `killed (SIGKILL)`. */
  reason: string
  outOfMemory: boolean
}

/**
 * What a running instance reports back; its owner supplies these callbacks
 * (the warm pool while the process waits, then the manager).
 */
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
