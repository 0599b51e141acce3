import type { ControlLogLine, LoadMessage } from './control-messages.js'

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
  /** The process's memory class (`spec.memory`, MiB): fixes its V8 heap limit at spawn. */
  memoryMiB: number
  /**
   * Warm the process's lazy parts before it reports listening. Worth it for
   * the warm pool, where that happens while idle.
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

/** What one pong tells of the instance's load. */
export interface PongReport {
  /** Event-loop utilisation since the previous pong, 0…1. */
  elu: number
  /** User + system CPU time of the process so far, µs. */
  cpuUs: number
}

/**
 * What a running instance reports back, every value already validated; its
 * owner supplies these callbacks (the warm pool while the process waits,
 * then the manager).
 */
export interface InstanceEvents {
  /** The data socket listens; `secret` opens connections to it. */
  onListening (secret: string): void
  onReady (loadMs: number): void
  onLoadFailed (reason: string): void
  onLogs (lines: ControlLogLine[], dropped: number): void
  onPong (id: number, report: PongReport): void
  onDrained (): void
  /** The instance sent something the protocol does not allow; it is being killed (onExit follows). */
  onProtocolViolation (what: string): void
  onExit (exit: InstanceExit): void
}

export interface RunningInstance {
  readonly pid: number | undefined
  /** Where the data socket listens (once `onListening` said so). */
  readonly socketPath: string
  /** Sets the process's bounds for `memoryMiB`, then sends `load`. */
  load (message: LoadMessage, memoryMiB: number): void
  ping (id: number): void
  drain (): void
  /** Ends the instance and every process it started at once; onExit follows. */
  kill (): void
}

export interface DriverIsolation {
  mode: string
  details: string[]
  /** `load` may carry a uid and gid to run as. */
  switchesUids: boolean
}

export interface Driver {
  readonly name: string
  launch (options: LaunchOptions, events: InstanceEvents): RunningInstance
  isolation (): DriverIsolation
  /** Called once every instance has exited: removes what the driver made for itself. */
  close? (): Promise<void>
}
