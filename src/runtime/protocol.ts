// Control messages between the instance manager (parent) and a runtime host
// (child), one JSON object per Control frame on the child's fd 3 (see
// docs/internal-protocol.md). Plain JSON so that another driver (Kubernetes)
// can speak the same protocol over another transport.

export interface FunctionIdentity {
  namespace: string
  name: string
  version: number
}

/** Parent → child: become an instance of this function version. */
export interface LoadMessage {
  t: 'load'
  instanceId: string
  bundlePath: string
  fn: FunctionIdentity
  env: Record<string, string>
  timeoutMs: number
  /** The gateway's URL, for ctx.fetch and relative URLs. */
  gatewayUrl?: string
  /** Sent as `x-roost-call` on calls through the gateway: proves the caller is this function. */
  callToken?: string
  /** With both, the runtime drops to this user and group before it imports the bundle. */
  uid?: number
  gid?: number
}

/** Parent → child: answer with a pong if the event loop is free. */
export interface PingMessage {
  t: 'ping'
  id: number
}

/** Parent → child: send GoAway on every data connection, finish what is in flight, then exit. */
export interface DrainMessage {
  t: 'drain'
}

export type ParentMessage = LoadMessage | PingMessage | DrainMessage

/** Child → parent: the data socket listens (sent before any load); `secret` (64 hex characters) opens a data connection. */
export interface ListeningMessage {
  t: 'listening'
  secret: string
}

/** Child → parent: the bundle is loaded and the instance serves requests. */
export interface ReadyMessage {
  t: 'ready'
  loadMs: number
}

/** Child → parent: the bundle could not be loaded; the child exits after this. */
export interface LoadFailedMessage {
  t: 'load-failed'
  reason: string
}

/** Child → parent: `elu` is the event-loop utilisation (0…1) since the previous pong; `cpuUs` the process's user + system CPU so far. */
export interface PongMessage {
  t: 'pong'
  id: number
  elu: number
  cpuUs: number
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogStream = 'console' | 'ctx' | 'stdout' | 'stderr' | 'system'

/** One line a function wrote; `time` is epoch milliseconds. */
export interface RuntimeLogLine {
  time: number
  level: LogLevel
  stream: LogStream
  requestId: string | null
  message: string
}

/** Child → parent: at most MAX_LOG_BATCH_LINES lines, each message at most MAX_LOG_LINE_BYTES. */
export interface LogsMessage {
  t: 'logs'
  lines: RuntimeLogLine[]
  dropped: number
}

export interface DrainedMessage {
  t: 'drained'
}

export type ChildMessage = ListeningMessage | ReadyMessage | LoadFailedMessage | PongMessage | LogsMessage | DrainedMessage

export const MAX_LOG_BATCH_LINES = 1000
/** UTF-8 bytes of one line's message, the truncation mark included. */
export const MAX_LOG_LINE_BYTES = 16 * 1024
/** UTF-8 bytes of a load-failed reason. */
export const MAX_LOAD_FAILED_REASON_BYTES = 64 * 1024

/** The path of the data socket, in the child's environment at spawn; removed before user code runs. */
export const RUNTIME_SOCKET_ENV = 'ROOST_RUNTIME_SOCKET'

/**
 * Set to `1` in a process's environment at spawn: the host warms its lazy
 * parts before it reports listening (see warm-up.ts), then removes the variable
 * so that user code never sees it.
 */
export const WARM_UP_ENV = 'ROOST_RUNTIME_WARM_UP'

/** The fd of the control channel in a runtime process. */
export const CONTROL_FD = 3
