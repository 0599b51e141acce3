// The bodies of deliveries (docs/event-delivery.md), written as JSON text
// directly: a JSON message body is spliced in as stored, not parsed and
// serialised again for every delivery.
import type { BodyType, LeasedRecord } from '../events/index.js'
import { JsonWriter } from './json-writer.js'

/**
 * `{ "queue": …, "shared": { … }, "messages": [ … ] }` for the runtime's
 * `queue(batch, ctx)`, as UTF-8 JSON. The fields every message of the batch
 * has alike (its queue's source and type, the body type, the attempt limit)
 * are written once, in `shared`: a message of a broker batch is then a third
 * of the bytes, which the runtime parses for every delivery.
 */
export function queueDeliveryBody (queue: string, records: readonly LeasedRecord[]): Buffer {
  const shared = records.length > 1 ? sharedFields(records) : 0
  let size = 64 + queue.length + (shared === 0 ? 0 : MESSAGE_OVERHEAD_BYTES)
  for (let i = 0; i < records.length; i++) size += MESSAGE_OVERHEAD_BYTES + (records[i] as LeasedRecord).body.byteLength * 4 / 3
  const out = new JsonWriter(Math.ceil(size))
  out.bytes(QUEUE_KEY)
  out.string(queue)
  if (shared !== 0) {
    out.bytes(SHARED_KEY)
    writeFields(out, records[0] as LeasedRecord, shared, true)
    out.bytes(OBJECT_END)
  }
  out.bytes(MESSAGES_KEY)
  for (let i = 0; i < records.length; i++) {
    if (i > 0) out.bytes(COMMA)
    writeMessage(out, records[i] as LeasedRecord, shared)
  }
  out.bytes(END)
  return out.done()
}

/** The fields a message may leave to `shared`, as bits. */
const enum Shared {
  BodyType = 1,
  Attributes = 2,
  MaxAttempts = 4,
  Source = 8,
  Type = 16,
  Subject = 32,
  ContentType = 64
}

/** Which fields every record has as the first one has them (attributes only when all are empty; a subject only when all have it). */
function sharedFields (records: readonly LeasedRecord[]): number {
  const first = records[0] as LeasedRecord
  let shared = Shared.BodyType | Shared.MaxAttempts | Shared.Source | Shared.Type | Shared.ContentType |
    (isEmpty(first.attributes) ? Shared.Attributes : 0) | (first.subject !== undefined ? Shared.Subject : 0)
  for (let i = 1; i < records.length && shared !== 0; i++) {
    const r = records[i] as LeasedRecord
    if (r.bodyType !== first.bodyType) shared &= ~Shared.BodyType
    if ((shared & Shared.Attributes) !== 0 && r.attributes !== first.attributes && !isEmpty(r.attributes)) shared &= ~Shared.Attributes
    if (r.maxAttempts !== first.maxAttempts) shared &= ~Shared.MaxAttempts
    if (r.source !== first.source) shared &= ~Shared.Source
    if (r.type !== first.type) shared &= ~Shared.Type
    if (r.subject !== first.subject) shared &= ~Shared.Subject
    if (r.contentType !== first.contentType) shared &= ~Shared.ContentType
  }
  return shared
}

function isEmpty (record: Readonly<Record<string, string>>): boolean {
  for (const _ in record) return false
  return true
}

// The fixed parts of a message's JSON, encoded once.
const QUEUE_KEY = Buffer.from('{"queue":')
const SHARED_KEY = Buffer.from(',"shared":{')
const MESSAGES_KEY = Buffer.from(',"messages":[')
const COMMA = Buffer.from(',')
const END = Buffer.from(']}')
const OBJECT_END = Buffer.from('}')
const ID_KEY = Buffer.from('{"id":')
const BODY_KEY = Buffer.from(',"body":')
const ATTEMPT_KEY = Buffer.from(',"attempt":')
const CREATED_AT_KEY = Buffer.from(',"createdAt":')
/** The optional fields' keys, without a comma: `key()` writes one before each but the first of `shared`. */
const BODY_TYPE_VALUES: Record<BodyType, Buffer> = {
  json: Buffer.from('"bodyType":"json"'),
  text: Buffer.from('"bodyType":"text"'),
  bytes: Buffer.from('"bodyType":"bytes"')
}
const ATTRIBUTES_KEY = Buffer.from('"attributes":')
const MAX_ATTEMPTS_KEY = Buffer.from('"maxAttempts":')
const SOURCE_KEY = Buffer.from('"source":')
const TYPE_KEY = Buffer.from('"type":')
const SUBJECT_KEY = Buffer.from('"subject":')
const CONTENT_TYPE_KEY = Buffer.from('"contentType":')
/** The keys and punctuation of one message and a little room for its fields. */
const MESSAGE_OVERHEAD_BYTES = 256

function writeMessage (out: JsonWriter, r: LeasedRecord, shared: number): void {
  out.bytes(ID_KEY)
  out.string(r.id)
  out.bytes(BODY_KEY)
  switch (r.bodyType) {
    // Stored as the JSON text the publisher's value serialised to (a broker's checked to parse).
    case 'json': out.bytes(r.body); break
    case 'text': out.stringOfUtf8(r.body); break
    case 'bytes': out.string(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength).toString('base64')); break
  }
  out.bytes(ATTEMPT_KEY)
  out.number(r.attempt)
  out.bytes(CREATED_AT_KEY)
  out.number(r.createdAt)
  writeFields(out, r, ~shared, false)
  out.bytes(MESSAGE_END)
}

const MESSAGE_END = OBJECT_END

/** The fields after the body type that a message may leave to `shared`, in the order they are written. */
const SHAREABLE_FIELDS: ReadonlyArray<{ bit: Shared, key: Uint8Array, write: (out: JsonWriter, r: LeasedRecord) => void }> = [
  { bit: Shared.Attributes, key: ATTRIBUTES_KEY, write: (out, r) => out.stringRecord(r.attributes) },
  { bit: Shared.MaxAttempts, key: MAX_ATTEMPTS_KEY, write: (out, r) => out.number(r.maxAttempts) },
  { bit: Shared.Source, key: SOURCE_KEY, write: (out, r) => out.string(r.source) },
  { bit: Shared.Type, key: TYPE_KEY, write: (out, r) => out.string(r.type) },
  { bit: Shared.Subject, key: SUBJECT_KEY, write: (out, r) => out.string(r.subject as string) },
  { bit: Shared.ContentType, key: CONTENT_TYPE_KEY, write: (out, r) => out.string(r.contentType) }
]

/** The fields of `r` that `which` names, each after a comma unless it opens `shared`. */
function writeFields (out: JsonWriter, r: LeasedRecord, which: number, opens: boolean): void {
  let comma = !opens
  if ((which & Shared.BodyType) !== 0) comma = key(out, BODY_TYPE_VALUES[r.bodyType], comma)
  for (let i = 0; i < SHAREABLE_FIELDS.length; i++) {
    const field = SHAREABLE_FIELDS[i] as typeof SHAREABLE_FIELDS[number]
    if ((which & field.bit) === 0 || (field.bit === Shared.Subject && r.subject === undefined)) continue
    comma = key(out, field.key, comma)
    field.write(out, r)
  }
}

/** `name` (a key with its colon, or a whole member), after a comma when one is due; a comma is due after it. */
function key (out: JsonWriter, name: Uint8Array, comma: boolean): true {
  if (comma) out.bytes(COMMA)
  out.bytes(name)
  return true
}

/** What a cron firing's record holds: the trigger and the time it stands for. */
export interface FiringBody {
  trigger: string
  cron: string
  timezone: string
  scheduledTime: number
}

/** `{ trigger, cron, timezone, scheduledTime, id }` for the runtime's `scheduled(event, ctx)`. */
export function scheduledDeliveryBody (record: LeasedRecord): string {
  const text = Buffer.from(record.body.buffer, record.body.byteOffset, record.body.byteLength).toString('utf8')
  // A firing's body is the object the scheduler stored; the id comes from the record.
  return `${text.slice(0, text.lastIndexOf('}'))},"id":${JSON.stringify(record.id)}}`
}
