import { NOT_COUNT, NOT_TEXT, NOT_TIME, attributesAt, countAt, isCount, isText, isTime, objectAt, textAt } from './body-fields.js'
import { EventBodyError } from './event-body-error.js'

// The body of a `queue` delivery (docs/event-delivery.md), checked field by
// field: the dispatcher is the only sender, so a mismatch is a platform bug
// and the 400 names the field.

export type BodyType = 'json' | 'text' | 'bytes'

/** One message as delivered, its body decoded. */
export interface DeliveredMessage {
  id: string
  body: unknown
  bodyType: BodyType
  attributes: Record<string, string>
  attempt: number
  maxAttempts: number
  source: string
  type: string
  subject: string | undefined
  contentType: string | undefined
  createdAt: number
}

export interface QueueDelivery {
  queue: string
  messages: DeliveredMessage[]
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** What the messages of a delivery may leave to its `shared` object: a field a message does not have is the shared one. */
interface SharedFields {
  bodyType: BodyType | undefined
  attributes: Record<string, string> | undefined
  maxAttempts: number | undefined
  source: string | undefined
  type: string | undefined
  subject: string | undefined
  contentType: string | undefined
}

const NOTHING_SHARED: SharedFields = { bodyType: undefined, attributes: undefined, maxAttempts: undefined, source: undefined, type: undefined, subject: undefined, contentType: undefined }

/** The delivery in `value` (parsed JSON); throws EventBodyError at the first field that is wrong. */
export function readQueueDelivery (value: unknown): QueueDelivery {
  const envelope = objectAt(value, '')
  const queue = textAt(envelope.queue, 'queue')
  const shared = envelope.shared === undefined ? NOTHING_SHARED : readShared(objectAt(envelope.shared, 'shared'))
  const list = envelope.messages
  if (!Array.isArray(list) || list.length === 0) throw new EventBodyError('messages must be a non-empty array', 'messages')
  const messages = new Array<DeliveredMessage>(list.length)
  for (let i = 0; i < list.length; i++) messages[i] = readMessage(list[i], i, shared)
  return { queue, messages }
}

function readShared (raw: Record<string, unknown>): SharedFields {
  return {
    bodyType: raw.bodyType === undefined ? undefined : bodyTypeAt(raw.bodyType, 'shared.bodyType'),
    attributes: raw.attributes === undefined ? undefined : attributesAt(raw.attributes, 'shared.attributes'),
    maxAttempts: raw.maxAttempts === undefined ? undefined : countAt(raw.maxAttempts, 'shared.maxAttempts'),
    source: raw.source === undefined ? undefined : textAt(raw.source, 'shared.source'),
    type: raw.type === undefined ? undefined : textAt(raw.type, 'shared.type'),
    subject: raw.subject === undefined ? undefined : textAt(raw.subject, 'shared.subject'),
    contentType: raw.contentType === undefined ? undefined : textAt(raw.contentType, 'shared.contentType')
  }
}

/**
 * One message, its fields checked as they are read; a field's path is made
 * only for the error (a delivery of a hundred messages reads a thousand
 * fields, and most deliveries have no error).
 */
function readMessage (value: unknown, index: number, shared: SharedFields): DeliveredMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EventBodyError(`messages[${index}] must be an object`, `messages[${index}]`)
  const raw = value as Record<string, unknown>
  const bodyType = raw.bodyType === undefined ? shared.bodyType : raw.bodyType
  if (bodyType !== 'json' && bodyType !== 'text' && bodyType !== 'bytes') throw fieldError(index, 'bodyType', 'must be "json", "text" or "bytes"')
  const id = raw.id
  if (!isText(id)) throw fieldError(index, 'id', NOT_TEXT)
  const attempt = raw.attempt
  if (!isCount(attempt)) throw fieldError(index, 'attempt', NOT_COUNT)
  const maxAttempts = raw.maxAttempts === undefined ? shared.maxAttempts : raw.maxAttempts
  if (!isCount(maxAttempts)) throw fieldError(index, 'maxAttempts', NOT_COUNT)
  const source = raw.source === undefined ? shared.source : raw.source
  if (!isText(source)) throw fieldError(index, 'source', NOT_TEXT)
  const type = raw.type === undefined ? shared.type : raw.type
  if (!isText(type)) throw fieldError(index, 'type', NOT_TEXT)
  const subject = raw.subject === undefined ? shared.subject : raw.subject
  if (subject !== undefined && !isText(subject)) throw fieldError(index, 'subject', NOT_TEXT)
  const contentType = raw.contentType === undefined ? shared.contentType : raw.contentType
  if (contentType !== undefined && !isText(contentType)) throw fieldError(index, 'contentType', NOT_TEXT)
  const createdAt = raw.createdAt
  if (!isTime(createdAt)) throw fieldError(index, 'createdAt', NOT_TIME)
  return {
    id,
    body: bodyOf(raw, bodyType, index),
    bodyType,
    // Shared attributes are copied: a handler that changes one message's changes no other's.
    attributes: raw.attributes !== undefined ? attributesAt(raw.attributes, `messages[${index}].attributes`) : shared.attributes !== undefined ? { ...shared.attributes } : {},
    attempt,
    maxAttempts,
    source,
    type,
    subject,
    contentType,
    createdAt
  }
}

function bodyTypeAt (value: unknown, at: string): BodyType {
  if (value !== 'json' && value !== 'text' && value !== 'bytes') throw new EventBodyError(`${at} must be "json", "text" or "bytes"`, at)
  return value
}

function fieldError (index: number, field: string, what: string): EventBodyError {
  const at = `messages[${index}].${field}`
  return new EventBodyError(`${at} ${what}`, at)
}

function bodyOf (raw: Record<string, unknown>, bodyType: BodyType, index: number): unknown {
  if (!('body' in raw)) throw fieldError(index, 'body', 'is missing')
  const body = raw.body
  if (bodyType === 'json') return body
  if (typeof body !== 'string') throw fieldError(index, 'body', `must be a string for bodyType ${bodyType}`)
  if (bodyType === 'text') return body
  if (!BASE64.test(body)) throw fieldError(index, 'body', 'must be base64 for bodyType bytes')
  // A copy of its own: a Buffer decoded from a short string is a view of node's shared pool.
  return new Uint8Array(Buffer.from(body, 'base64'))
}
