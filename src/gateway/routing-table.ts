// The gateway's whole view of the world, pushed by the control plane as a
// snapshot whenever something changes. The gateway never reads the store.

export interface TrafficTarget {
  version: number
  percent: number
  tag?: string
}

export interface RoutedVersion {
  key: string
  version: number
  timeoutMs: number
  /** Hard limit of requests in flight on one instance. */
  concurrency: number
  /** Requests that may wait for a free instance before callers get 503. */
  queueLimit: number
}

export interface RoutedFunction {
  key: string
  namespace: string
  name: string
  /** `spec.http.path` routes, besides /fn/<name> and /fn/<name>.<namespace>. */
  paths: string[]
  versions: RoutedVersion[]
  /** Never empty; percents add up to 100. */
  traffic: TrafficTarget[]
}

export interface RoutedInstance {
  id: string
  versionKey: string
  host: string
  port: number
  state: 'starting' | 'ready' | 'draining'
}

export interface RoutingTable {
  revision: number
  functions: RoutedFunction[]
  instances: RoutedInstance[]
}

export interface GatewayOptions {
  host: string
  port: number
  /** Largest request body passed to a function, in bytes. */
  bodyLimit: number
}

/** Control plane → gateway. */
export type GatewayCommand =
  | { t: 'table', table: RoutingTable }
  | { t: 'start-failed', versionKey: string, reason: string }
  | { t: 'close' }

/** Gateway → control plane. */
export type GatewayReport =
  | { t: 'listening', host: string, port: number }
  | { t: 'listen-failed', code: string, message: string }
  | { t: 'demand', versionKey: string }
  | { t: 'suspect', instanceId: string }
  | { t: 'closed' }
