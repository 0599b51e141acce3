import { attributesAt, countAt, objectAt, textAt, timeAt } from './body-fields.js'
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

/** The delivery in `value` (parsed JSON); throws EventBodyError at the first field that is wrong. */
export function readQueueDelivery (value: unknown): QueueDelivery {
  const envelope = objectAt(value, '')
  const queue = textAt(envelope.queue, 'queue')
  const list = envelope.messages
  if (!Array.isArray(list) || list.length === 0) throw new EventBodyError('messages must be a non-empty array', 'messages')
  const messages = new Array<DeliveredMessage>(list.length)
  for (let i = 0; i < list.length; i++) messages[i] = readMessage(list[i], `messages[${i}]`)
  return { queue, messages }
}

function readMessage (value: unknown, at: string): DeliveredMessage {
  const raw = objectAt(value, at)
  const bodyType = raw.bodyType
  if (bodyType !== 'json' && bodyType !== 'text' && bodyType !== 'bytes') {
    throw new EventBodyError(`${at}.bodyType must be "json", "text" or "bytes"`, `${at}.bodyType`)
  }
  return {
    id: textAt(raw.id, `${at}.id`),
    body: bodyOf(raw, bodyType, `${at}.body`),
    bodyType,
    attributes: raw.attributes === undefined ? {} : attributesAt(raw.attributes, `${at}.attributes`),
    attempt: countAt(raw.attempt, `${at}.attempt`),
    maxAttempts: countAt(raw.maxAttempts, `${at}.maxAttempts`),
    source: textAt(raw.source, `${at}.source`),
    type: textAt(raw.type, `${at}.type`),
    subject: raw.subject === undefined ? undefined : textAt(raw.subject, `${at}.subject`),
    contentType: raw.contentType === undefined ? undefined : textAt(raw.contentType, `${at}.contentType`),
    createdAt: timeAt(raw.createdAt, `${at}.createdAt`)
  }
}

function bodyOf (raw: Record<string, unknown>, bodyType: BodyType, at: string): unknown {
  if (!('body' in raw)) throw new EventBodyError(`${at} is missing`, at)
  const body = raw.body
  if (bodyType === 'json') return body
  if (typeof body !== 'string') throw new EventBodyError(`${at} must be a string for bodyType ${bodyType}`, at)
  if (bodyType === 'text') return body
  if (!BASE64.test(body)) throw new EventBodyError(`${at} must be base64 for bodyType bytes`, at)
  // A copy of its own: a Buffer decoded from a short string is a view of node's shared pool.
  return new Uint8Array(Buffer.from(body, 'base64'))
}
