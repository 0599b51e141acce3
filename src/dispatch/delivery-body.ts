// The bodies of deliveries (docs/event-delivery.md), written as JSON text
// directly: a JSON message body is spliced in as stored, not parsed and
// serialised again for every delivery.
import type { BodyType, LeasedRecord } from '../events/index.js'
import { JsonWriter } from './json-writer.js'

/** `{ "queue": …, "messages": [ … ] }` for the runtime's `queue(batch, ctx)`, as UTF-8 JSON. */
export function queueDeliveryBody (queue: string, records: readonly LeasedRecord[]): Buffer {
  let size = 64 + queue.length
  for (let i = 0; i < records.length; i++) size += MESSAGE_OVERHEAD_BYTES + (records[i] as LeasedRecord).body.byteLength * 4 / 3
  const out = new JsonWriter(Math.ceil(size))
  out.bytes(QUEUE_KEY)
  out.string(queue)
  out.bytes(MESSAGES_KEY)
  for (let i = 0; i < records.length; i++) {
    if (i > 0) out.bytes(COMMA)
    writeMessage(out, records[i] as LeasedRecord)
  }
  out.bytes(END)
  return out.done()
}

// The fixed parts of a message's JSON, encoded once.
const QUEUE_KEY = Buffer.from('{"queue":')
const MESSAGES_KEY = Buffer.from(',"messages":[')
const COMMA = Buffer.from(',')
const END = Buffer.from(']}')
const ID_KEY = Buffer.from('{"id":')
const BODY_KEY = Buffer.from(',"body":')
const BODY_TYPE_KEYS: Record<BodyType, Buffer> = {
  json: Buffer.from(',"bodyType":"json","attributes":'),
  text: Buffer.from(',"bodyType":"text","attributes":'),
  bytes: Buffer.from(',"bodyType":"bytes","attributes":')
}
const ATTEMPT_KEY = Buffer.from(',"attempt":')
const MAX_ATTEMPTS_KEY = Buffer.from(',"maxAttempts":')
const SOURCE_KEY = Buffer.from(',"source":')
const TYPE_KEY = Buffer.from(',"type":')
const SUBJECT_KEY = Buffer.from(',"subject":')
const CONTENT_TYPE_KEY = Buffer.from(',"contentType":')
const CREATED_AT_KEY = Buffer.from(',"createdAt":')
const MESSAGE_END = Buffer.from('}')
/** The keys and punctuation of one message and a little room for its fields. */
const MESSAGE_OVERHEAD_BYTES = 256

function writeMessage (out: JsonWriter, r: LeasedRecord): void {
  stringField(out, ID_KEY, r.id)
  out.bytes(BODY_KEY)
  switch (r.bodyType) {
    // Stored as the JSON text the publisher's value serialised to (a broker's checked to parse).
    case 'json': out.bytes(r.body); break
    case 'text': out.stringOfUtf8(r.body); break
    case 'bytes': out.string(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength).toString('base64')); break
  }
  out.bytes(BODY_TYPE_KEYS[r.bodyType])
  out.stringRecord(r.attributes)
  numberField(out, ATTEMPT_KEY, r.attempt)
  numberField(out, MAX_ATTEMPTS_KEY, r.maxAttempts)
  stringField(out, SOURCE_KEY, r.source)
  stringField(out, TYPE_KEY, r.type)
  if (r.subject !== undefined) stringField(out, SUBJECT_KEY, r.subject)
  stringField(out, CONTENT_TYPE_KEY, r.contentType)
  numberField(out, CREATED_AT_KEY, r.createdAt)
  out.bytes(MESSAGE_END)
}

/** `key` is the field's name with its quotes, colon and the comma before it, encoded once. */
function stringField (out: JsonWriter, key: Uint8Array, value: string): void {
  out.bytes(key)
  out.string(value)
}

function numberField (out: JsonWriter, key: Uint8Array, value: number): void {
  out.bytes(key)
  out.number(value)
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
