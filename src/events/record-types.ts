// The durable event record: one shape for queue messages, async invocations
// and cron firings, so that one state machine, one table and one set of tools
// (leases, retries, the dead-letter box, the views) serve all three.
//
//   ready ──lease──▶ leased ──ack──▶ succeeded
//     ▲                │ ├──fail (counted), attempts left──▶ ready (not before now + backoff)
//     │                │ ├──fail (counted), none left / "do not retry"──▶ dead
//     │                │ └──release (drained, stopped: not counted)──▶ ready
//     │                └──lease expired (hung, killed: counted)──▶ ready | dead
//     └──────────── replay ◀── dead
//   ready ──cancel──▶ cancelled

export type RecordState = 'ready' | 'leased' | 'succeeded' | 'dead' | 'cancelled'
export type RecordKind = 'message' | 'invocation' | 'firing'
/** How the body's bytes are meant: JSON text, plain text, or opaque bytes. */
export type BodyType = 'json' | 'text' | 'bytes'

/**
 * What a publisher gives. The body is stored as bytes: a Uint8Array as they
 * are (bytes), a string as UTF-8 (text), anything else as its JSON text (json).
 */
export interface NewRecord {
  body: unknown
  /**
   * The body is bytes already encoded as this type (a broker's message, a
   * connector's publish): stored as they are, not as opaque bytes. A json body
   * must parse and a text body be UTF-8, for deliveries splice them in as they are.
   */
  bodyType?: BodyType
  /** An explicit id (a cron firing's deterministic id); a record with this id already there makes this a duplicate. */
  id?: string
  kind?: RecordKind
  /** Idempotency key: another live record with it (or a finished one within the queue's retention) makes this a duplicate. */
  key?: string
  /** What a key already in use does: refuse this one (default), or replace the waiting one. */
  onDuplicate?: 'refuse' | 'replace'
  /** Not delivered before now + delayMs. */
  delayMs?: number
  /** The CloudEvents `source`; default /namespaces/<ns>/queues/<queue>. */
  source?: string
  /** The CloudEvents `type`; default dev.roost.<kind>. */
  type?: string
  subject?: string
  /** The CloudEvents `datacontenttype`; default from the body type. */
  contentType?: string
  /** Extension attributes and the publisher's own, string to string. */
  attributes?: Record<string, string>
  /** Overrides the queue's maxAttempts for this record. */
  maxAttempts?: number
  /** Overrides the queue's maxAgeMs: past createdAt + maxAgeMs the record is dead ('expired') instead of delivered. */
  maxAgeMs?: number
}

export type PublishOutcome = 'created' | 'replaced' | 'duplicate'

export interface PublishResult {
  /** The new record's id; for a duplicate, the id of the record already there. */
  id: string
  outcome: PublishOutcome
}

/** A message's content and CloudEvents attributes, as a handler receives them, wherever it was stored. */
export interface MessageContent {
  body: Uint8Array
  bodyType: BodyType
  source: string
  type: string
  subject: string | undefined
  contentType: string
  attributes: Record<string, string>
}

/** One record handed to a consumer, with the fencing token its settlement must carry. */
export interface LeasedRecord extends MessageContent {
  id: string
  kind: RecordKind
  namespace: string
  queue: string
  /** The fencing token: the delivery number of this lease. */
  token: number
  /** This attempt's number (1 for the first); releases do not advance it. */
  attempt: number
  maxAttempts: number
  createdAt: number
  leaseExpiresAt: number
}

export interface LeaseRequest {
  /** At most this many records, oldest due first. */
  max: number
  leaseMs: number
  /** Who holds the leases (an instance id); shown in attempts. */
  consumer: string
}

/** A settlement names the lease by record id and fencing token. */
export interface LeaseRef {
  id: string
  token: number
}

export interface ResponseInput {
  status: number
  headers?: Record<string, string>
  body?: Uint8Array | string
}

/** Why a counted attempt failed. */
export type FailureCause = 'error' | 'timeout' | 'crashed' | 'retry'
/** Why a lease was given back without counting an attempt. */
export type ReleaseReason = 'drained' | 'stopped'

export type Settlement = LeaseRef & (
  | { outcome: 'succeeded', response?: ResponseInput, initMs?: number }
  | { outcome: 'failed', cause: FailureCause, error?: string, status?: number, retryAfterMs?: number, initMs?: number }
  | { outcome: 'dead', reason: string, error?: string, status?: number, initMs?: number }
  | { outcome: 'released', reason: ReleaseReason, delayMs?: number }
)

export type SettleResult =
  | { id: string, settled: true, state: RecordState }
  | { id: string, settled: false, reason: 'lease-lost' }

/** What became of one delivery. `counted` says whether it used up an attempt. */
export type AttemptOutcome = 'succeeded' | FailureCause | 'expired' | 'dead' | ReleaseReason

export interface AttemptView {
  delivery: number
  counted: boolean
  outcome: AttemptOutcome
  consumer: string | undefined
  startedAt: number
  endedAt: number
  initMs: number | undefined
  status: number | undefined
  error: string | undefined
}

export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: Uint8Array
  /** The body was cut at the queue's maxResponseBytes. */
  truncated: boolean
}

export interface RecordView {
  /** Position in publish order; a cursor for listing. */
  seq: number
  id: string
  kind: RecordKind
  namespace: string
  queue: string
  state: RecordState
  source: string
  type: string
  subject: string | undefined
  contentType: string
  attributes: Record<string, string>
  body: Uint8Array
  bodyType: BodyType
  key: string | undefined
  createdAt: number
  notBefore: number
  /** Counted attempts so far. */
  attempts: number
  maxAttempts: number
  deliveries: number
  leaseExpiresAt: number | undefined
  firstStartedAt: number | undefined
  finishedAt: number | undefined
  deadReason: string | undefined
  response: StoredResponse | undefined
  history: AttemptView[]
}

export interface QueueStats {
  namespace: string
  queue: string
  /** Ready records, due or delayed. */
  waiting: number
  leased: number
  /** waiting + leased: what the autoscaler scales on (never waiting alone, or busy workers are stopped). */
  backlog: number
  dead: number
  /** When a lease of this queue last ended (settled or expired); undefined if none ever did. */
  lastCompletedAt: number | undefined
}

export type CancelOutcome = 'cancelled' | 'running' | 'finished' | 'not-found'

/** Which dead records a replay or purge acts on. */
export type DeadSelection = { ids: readonly string[] } | { all: true }
