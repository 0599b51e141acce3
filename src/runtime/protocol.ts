// Messages between the instance manager (parent) and a runtime host (child),
// carried over the child's IPC channel. Kept to plain JSON so that both sides
// can be written in different languages later (a Kubernetes driver speaks the
// same protocol over another transport).

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
}

/** Parent → child: answer with a pong if the event loop is free. */
export interface PingMessage {
  t: 'ping'
  id: number
}

/** Parent → child: stop taking requests, finish those in flight, then exit. */
export interface DrainMessage {
  t: 'drain'
}

export type ParentMessage = LoadMessage | PingMessage | DrainMessage

/** Child → parent: the HTTP server is listening (sent before any load). */
export interface ListeningMessage {
  t: 'listening'
  port: number
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

export interface PongMessage {
  t: 'pong'
  id: number
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

export interface LogsMessage {
  t: 'logs'
  lines: RuntimeLogLine[]
  dropped: number
}

export interface DrainedMessage {
  t: 'drained'
}

export type ChildMessage = ListeningMessage | ReadyMessage | LoadFailedMessage | PongMessage | LogsMessage | DrainedMessage

/** Header carrying the request id from the gateway to the instance. */
export const REQUEST_ID_HEADER = 'x-request-id'
/** Header carrying the absolute deadline (epoch ms) from the gateway to the instance. */
export const DEADLINE_HEADER = 'x-roost-deadline'

/**
 * Set to `1` in a process's environment at spawn: the host warms its lazy
 * parts before it reports listening (see warm-up.ts), then removes the variable
 * so that user code never sees it.
 */
export const WARM_UP_ENV = 'ROOST_RUNTIME_WARM_UP'
