// The gateway's whole view of the world, pushed by the control plane as a
// snapshot whenever something changes. The gateway never reads the store.
import type { LoadShedderOptions } from './load-shedder.js'

import type { FunctionPolicy } from '../governance/index.js'
import type { FunctionGovernanceState } from './function-governance.js'

export interface TrafficTarget {
  version: number
  percent: number
  tag?: string
  /** Requests labelled with this lane (FunctionPolicy.lanes) go to this version, whatever its percent. */
  lane?: string
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
  /** `spec.http.host`: with it, `paths` (or, without paths, every path) answer on this host only. */
  host?: string
  versions: RoutedVersion[]
  /** Never empty; percents add up to 100. */
  traffic: TrafficTarget[]
  /** Every governance rule that applies, compiled (src/governance); absent: none, as before governance. */
  governance?: FunctionPolicy
}

export interface RoutedInstance {
  id: string
  versionKey: string
  /** The instance's data socket (docs/internal-protocol.md). */
  socketPath: string
  /** The 64 hex characters the instance announced in `listening`; sent in Hello. */
  secret: string
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
  /** How often the gateway sends a metrics report; 0 turns the reports off. Default 1000. */
  metricsIntervalMs?: number
  /** Connections held at once; over it a new one gets 503. Default 10,000 (fits an fd limit of ~20,000). */
  maxConnections?: number
  /** Connections held at once from one client address. Default 256. */
  maxConnectionsPerClient?: number
  /** Time for a request's headers to arrive, from its first byte. Default 10,000 ms. */
  headersTimeoutMs?: number
  /** How long a request that arrives before the first routing table waits for it. Default 2,000 ms. */
  tableWaitMs?: number
  /** When the gateway sheds new requests because its own event loop is late. */
  loadShedding?: LoadShedderOptions
  /** The platform run's call key (PlatformCallKey.bytes()): checks the tokens functions call with. */
  callKey?: Uint8Array
  /**
   * The run's event secret (64 hex characters): a request carrying it in
   * `x-roost-event-token` is an event delivery of the control plane
   * (docs/event-delivery.md). Without it no request is one.
   */
  eventToken?: string
  /** Largest body of an async invocation (`/async/…`), in bytes; never more than bodyLimit. Default 1 MiB. */
  asyncBodyLimit?: number
  /**
   * Serve the requests it can read whole without node's per-request objects
   * (fast-connection.ts); off, every connection goes to node's HTTP server.
   * Default on; the benchmarks turn it off to show what it saves.
   */
  fastPath?: boolean
}

/** What the control plane answers a request it was handed (a publish, an async invocation): written to the caller as is. */
export interface ControlAnswer {
  status: number
  headers?: Record<string, string>
  body?: string | Uint8Array
}

/** `POST /_roost/queues/<queue>/messages` from a function, for the control plane to publish. */
export interface PublishRequest {
  namespace: string
  queue: string
  /** `fn:<namespace>/<name>`: the function whose call token came with it. */
  caller: string
  /** The body's `messages`, unchecked beyond being an array. */
  messages: unknown[]
  requestId: string
}

/** `/async/<route>`: the request, read whole, for the control plane to store as an invocation record. */
export interface AsyncInvocationRequest {
  namespace: string
  function: string
  method: string
  /** Path and query as the function sees them (what follows its route's prefix), without `wait`. */
  path: string
  /** The request's headers as sent, in order, less those the gateway sets or drops. */
  headers: Array<[string, string]>
  body: Uint8Array
  /** `X-Callback-Url`: where the final result is POSTed. */
  callbackUrl: string | undefined
  /** Who called, as the function's caller check found it; undefined for anonymous. */
  caller: string | undefined
  requestId: string
  /** `?wait=` or `Prefer: wait=`: how long the caller waits for the result before a 202; 0 for not at all. */
  waitMs: number
}

/** One function version's load over the last interval, for the autoscaler. */
export interface VersionMetrics {
  /** `namespace/name@version` */
  key: string
  /** Time-averaged open requests (in flight + waiting) over the interval. */
  concurrency: number
  /** Requests in flight on an instance, now. */
  inFlight: number
  /** Requests waiting for an instance (the activator's buffer), now. */
  waiting: number
  /** Requests that arrived in the interval. */
  arrivals: number
  /** Arrivals per second over the interval. */
  rps: number
}

/** One instance's load over the last interval. */
export interface InstanceMetrics {
  id: string
  versionKey: string
  /** Requests in flight on the instance, now. */
  inFlight: number
  /** Time-averaged requests in flight over the interval. */
  concurrency: number
}

/** Sent every metrics interval: every routed version (idle ones with zeros) and retired versions with open requests. */
export interface GatewayMetricsReport {
  t: 'metrics'
  /** When the interval ended, epoch ms. */
  at: number
  intervalMs: number
  /** The gateway thread's event-loop utilisation over the interval, 0…1: the autoscaler's view of the shared proxy (cpu-cap.ts). */
  elu: number
  versions: VersionMetrics[]
  instances: InstanceMetrics[]
  /** The live state of every function with governance rules, by function key (`roost describe function`). */
  governance: Record<string, FunctionGovernanceState>
}

export type GovernanceEvent =
  | { kind: 'breaker', rule: string, breaker: string, from: string, to: string, reason: string, openMs?: number }
  | { kind: 'rejected', rule: string, strategy: string, cause: string }

/** Control plane → gateway. */
export type GatewayCommand =
  | { t: 'table', table: RoutingTable }
  | { t: 'start-failed', versionKey: string, reason: string }
  /** The answer to a `scrape` report: the control plane's exposition text. */
  | { t: 'scrape-result', id: number, text: string }
  /** Asks for the gateway's own exposition text, answered by an `exposition` report. */
  | { t: 'expose', id: number }
  /** The answers to a `publish` and an `invoke-async` report. */
  | { t: 'publish-result', id: number, answer: ControlAnswer }
  | { t: 'invoke-async-result', id: number, answer: ControlAnswer }
  | { t: 'close' }

/** Gateway → control plane. */
export type GatewayReport =
  | { t: 'listening', host: string, port: number }
  | { t: 'listen-failed', code: string, message: string }
  | { t: 'demand', versionKey: string }
  | { t: 'suspect', instanceId: string }
  /** The instance broke the data protocol (a malformed frame, …); its connection is closed, the instance should be ended. */
  | { t: 'violation', instanceId: string, reason: string }
  | GatewayMetricsReport
  /** GET /metrics on the gateway port wants the control plane's exposition text. */
  | { t: 'scrape', id: number }
  | { t: 'exposition', id: number, text: string }
  /** The routing table of this revision is in force. */
  | { t: 'table-applied', revision: number }
  /** A breaker changed state, or a rule began refusing requests (the first rejection of a burst). */
  | { t: 'governance', function: string, event: GovernanceEvent }
  /** A function published messages (answered by `publish-result`). */
  | ({ t: 'publish', id: number } & PublishRequest)
  /** An async invocation to store (answered by `invoke-async-result`, after the wait it asks for). */
  | ({ t: 'invoke-async', id: number } & AsyncInvocationRequest)
  | { t: 'closed' }
