// Rows of the events database as better-sqlite3 returns them, and their
// conversion to the part's plain typed objects.
import type {
  AttemptOutcome, AttemptView, BodyType, LeasedRecord, RecordKind, RecordState, RecordView, StoredResponse
} from './record-types.js'

export interface RecordRow {
  seq: number
  id: string
  kind: RecordKind
  namespace: string
  queue: string
  state: RecordState
  source: string
  type: string
  subject: string | null
  content_type: string
  attributes: string
  body_type: BodyType
  body: Buffer
  idempotency_key: string | null
  key_expires_at: number | null
  created_at: number
  not_before: number
  deadline: number | null
  attempts: number
  max_attempts: number
  backoff_initial_ms: number
  backoff_max_ms: number
  lease_token: number
  leased_by: string | null
  leased_at: number | null
  lease_expires_at: number | null
  first_started_at: number | null
  finished_at: number | null
  retain_until: number | null
  dead_reason: string | null
  response_status: number | null
  response_headers: string | null
  response_body: Buffer | null
  response_truncated: number | null
}

export interface AttemptRow {
  record_seq: number
  delivery: number
  counted: number
  outcome: AttemptOutcome
  consumer: string | null
  started_at: number
  ended_at: number
  init_ms: number | null
  status: number | null
  error: string | null
}

export function leasedRecord (row: RecordRow): LeasedRecord {
  return {
    id: row.id,
    kind: row.kind,
    namespace: row.namespace,
    queue: row.queue,
    token: row.lease_token,
    attempt: row.attempts + 1,
    maxAttempts: row.max_attempts,
    body: row.body,
    bodyType: row.body_type,
    source: row.source,
    type: row.type,
    subject: row.subject ?? undefined,
    contentType: row.content_type,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    createdAt: row.created_at,
    leaseExpiresAt: row.lease_expires_at as number
  }
}

export function recordView (row: RecordRow, attempts: readonly AttemptRow[]): RecordView {
  return {
    seq: row.seq,
    id: row.id,
    kind: row.kind,
    namespace: row.namespace,
    queue: row.queue,
    state: row.state,
    source: row.source,
    type: row.type,
    subject: row.subject ?? undefined,
    contentType: row.content_type,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    body: row.body,
    bodyType: row.body_type,
    key: row.idempotency_key ?? undefined,
    createdAt: row.created_at,
    notBefore: row.not_before,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    deliveries: row.lease_token,
    leaseExpiresAt: row.state === 'leased' ? row.lease_expires_at ?? undefined : undefined,
    firstStartedAt: row.first_started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    deadReason: row.dead_reason ?? undefined,
    response: storedResponse(row),
    history: attempts.map(attemptView)
  }
}

function storedResponse (row: RecordRow): StoredResponse | undefined {
  if (row.response_status === null) return undefined
  return {
    status: row.response_status,
    headers: row.response_headers === null ? {} : JSON.parse(row.response_headers) as Record<string, string>,
    body: row.response_body ?? Buffer.alloc(0),
    truncated: row.response_truncated === 1
  }
}

function attemptView (row: AttemptRow): AttemptView {
  return {
    delivery: row.delivery,
    counted: row.counted === 1,
    outcome: row.outcome,
    consumer: row.consumer ?? undefined,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    initMs: row.init_ms ?? undefined,
    status: row.status ?? undefined,
    error: row.error ?? undefined
  }
}
