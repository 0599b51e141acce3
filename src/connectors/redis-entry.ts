// How a message is laid out as a Redis stream entry, both ways. Roost writes
// its attribute headers (message-attributes.ts: ce-id, ce-source, ce-type,
// content-type, x-roost-body-type, ce-<ext>) as fields, then the body as the
// field `body`. An entry is read in that layout when it has both `body` and
// `ce-id`. Any other entry came from another client (redis-cli, an app's own
// XADD) and is delivered whole: the value of its only field as the body, or,
// when it has several, all its fields as one JSON object (a value that is not
// UTF-8 as {"base64": "…"}), so that no field is dropped. Pure.
import { isUtf8 } from 'node:buffer'
import type { BrokerMessage, OutgoingMessage } from './connector.js'
import { incomingMessage, messageHeaders } from './message-attributes.js'
import type { MessageOrigin } from './message-attributes.js'

export const BODY_FIELD = 'body'
const ID_FIELD = 'ce-id'
const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' })
const ORIGIN: MessageOrigin = { kind: 'redis', queue: '', brokerId: '' }

/** The fields of the entry for `message`, in XADD's order: its headers, then its body. Throws ValidationError for attributes no header can carry. */
export function entryFields (message: OutgoingMessage): Record<string, string | Buffer> {
  const fields: Record<string, string | Buffer> = messageHeaders(message)
  fields[BODY_FIELD] = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength)
  return fields
}

/**
 * The message an entry holds, whoever wrote it. `fields` is the entry as
 * Redis returns it: name, value, name, value… Never throws: entries with
 * fields Roost did not write still become a message it can deliver.
 */
export function entryMessage (stream: string, entryId: string, fields: readonly Buffer[], attempt: number): BrokerMessage {
  // incomingMessage reads the origin and keeps none of it: one object serves every entry.
  const origin = ORIGIN
  origin.queue = stream
  origin.brokerId = entryId
  const roostBody = roostLayoutBody(fields)
  let body: Uint8Array
  let headers: Record<string, Buffer> | typeof JSON_HEADERS | undefined
  if (roostBody !== undefined) {
    body = roostBody
    headers = headerFields(fields)
  } else if (fields.length === 2) {
    body = fields[1] as Buffer
  } else {
    body = fieldsAsJson(fields)
    headers = JSON_HEADERS
  }
  return incomingMessage(headers, body, origin, attempt, entryTime(entryId))
}

/**
 * The epoch ms an entry id starts with (`<ms>-<seq>`): when Redis took the
 * entry; 0 for an id that does not start with digits. Read digit by digit
 * (no slice, no string to number), as every fetched entry's is.
 */
export function entryTime (entryId: string): number {
  let ms = 0
  let i = 0
  for (; i < entryId.length; i++) {
    const c = entryId.charCodeAt(i)
    if (c === DASH) break
    if (c < ZERO || c > NINE) return 0
    ms = ms * 10 + (c - ZERO)
  }
  return i === 0 ? 0 : ms
}

const DASH = 0x2d
const ZERO = 0x30
const NINE = 0x39

/**
 * Whether entry id `a` comes before `b` in the stream (`<ms>-<seq>`, both
 * compared as numbers). Redis writes both parts in decimal without leading
 * zeros, so a shorter part is the smaller one and parts of one length compare
 * digit by digit: no slices and no numbers made, as an acknowledgement of a
 * batch compares every id of it.
 */
export function entryIdBefore (a: string, b: string): boolean {
  const da = a.indexOf('-')
  const db = b.indexOf('-')
  if (da !== db) return da < db
  for (let i = 0; i < da; i++) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(i)
    if (ca !== cb) return ca < cb
  }
  const sa = a.length - da
  const sb = b.length - db
  if (sa !== sb) return sa < sb
  for (let i = da + 1; i < a.length; i++) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(i)
    if (ca !== cb) return ca < cb
  }
  return false
}

function roostLayoutBody (fields: readonly Buffer[]): Buffer | undefined {
  let body: Buffer | undefined
  let hasId = false
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = (fields[i] as Buffer).toString('latin1')
    if (name === BODY_FIELD) body = fields[i + 1]
    else if (name === ID_FIELD) hasId = true
  }
  return hasId ? body : undefined
}

function headerFields (fields: readonly Buffer[]): Record<string, Buffer> {
  const headers: Record<string, Buffer> = Object.create(null)
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = (fields[i] as Buffer).toString('utf8')
    if (name !== BODY_FIELD) headers[name] = fields[i + 1] as Buffer
  }
  return headers
}

// A later field of the same name wins, as with JSON.parse of a repeated member.
function fieldsAsJson (fields: readonly Buffer[]): Buffer {
  const object: Record<string, string | { base64: string }> = Object.create(null)
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as Buffer
    object[(fields[i] as Buffer).toString('utf8')] = isUtf8(value) ? value.toString('utf8') : { base64: value.toString('base64') }
  }
  return Buffer.from(JSON.stringify(object))
}
