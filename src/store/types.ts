// The shapes the store hands out and takes in. They are plain data (JSON-safe)
// so that other parts can pass them across threads and processes unchanged.

export type ResourceKind = string // 'Function' now; governance kinds later

export interface StoredResource<S = unknown, T = unknown> {
  kind: string
  namespace: string
  name: string
  uid: string // random UUID at creation; a deleted and re-created resource gets a new one
  resourceVersion: number // global monotonic sequence, bumped by every write of any resource
  generation: number // bumped only when spec or labels change
  labels: Record<string, string>
  spec: S
  status: T | undefined
  createdAt: string
  updatedAt: string
}

export interface ResourceBody<S = unknown> {
  spec: S
  labels: Record<string, string>
}

export interface PutOptions {
  // 0 means "must not exist yet"; any other number must equal the stored resourceVersion
  expectedResourceVersion?: number
}

export interface PutResult<S = unknown> {
  resource: StoredResource<S>
  created: boolean
  changed: boolean
}

export interface StoredVersion<C = unknown> {
  namespace: string
  function: string
  number: number
  bundleHash: string
  configHash: string
  config: C
  createdAt: string
}

export interface VersionBody<C = unknown> {
  bundleHash: string
  configHash: string
  config: C
}

export type EventType = 'Normal' | 'Warning'

export interface StoredEvent {
  id: number
  time: string
  namespace: string
  kind: string
  name: string
  type: EventType
  reason: string
  message: string
}

export type NewEvent = Omit<StoredEvent, 'id' | 'time'> & { time?: string }

export interface EventQuery {
  namespace: string
  kind: string
  name: string
  limit?: number // default 50: the newest N, returned oldest-first
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogStream = 'console' | 'ctx' | 'stdout' | 'stderr' | 'system'

export interface LogLine {
  id?: number // assigned by the store; ignored on append
  time: number // epoch ms
  namespace: string
  function: string
  version: number
  instance: string
  requestId: string | null
  level: LogLevel
  stream: LogStream
  message: string
}

export interface LogQuery {
  namespace: string
  function: string
  sinceMs?: number // only lines with time >= sinceMs
  afterId?: number // only lines with id > afterId (for following)
  limit?: number // default 1000: the newest N, returned oldest-first
  requestId?: string // only lines of this request (an async invocation's lines: its call id)
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface WatchEvent {
  type: WatchEventType
  kind: string // the resource's kind, or 'Version' for versions
  namespace: string
  name: string // the resource's name, or the function's name for versions
  resourceVersion: number
  // the state after the write; for DELETED the last state, with resourceVersion
  // set to the deletion's (as Kubernetes does)
  object: StoredResource | StoredVersion
}

export type WatchListener = (event: WatchEvent) => void

export interface TokenScope {
  namespace: string // '*' = admin of all namespaces
  description?: string
}

export interface CreatedToken {
  id: string
  token: string // shown once; only its sha256 is stored
}

export interface TokenInfo {
  id: string
  namespace: string
  description: string | undefined
  createdAt: string
}

export interface StoreOptions {
  // The file of the key that seals env values; created (0600) at first open.
  // Default: `<store dir>/keys/data.key`. The platform keeps it beside, not in,
  // the data folder ($ROOST_HOME/keys/data.key), so a copy of the data has no key.
  keyFile?: string
  // Called when a watch listener throws. The store and the other listeners carry on
  // whatever this does; the default prints a process warning.
  onListenerError?: (error: unknown, event: WatchEvent) => void
}

export interface RouteReservation {
  prefix: string // a path such as /team-a: the prefix itself and every path under it
  namespace: string
  createdAt: string
}
