// How a message is laid out in AMQP and read back: Roost's attributes in the
// application headers (message-attributes.ts), the id as message-id, the
// attempt from the quorum queue's x-delivery-count plus x-roost-attempt (the
// attempt a re-published copy starts at), and the copy a delayed retry or a
// release re-publishes. Pure: the connector publishes and consumes.
import { hash } from 'node:crypto'
import type { Message, Options } from 'amqplib'
import { ValidationError } from '../errors/index.js'
import type { BrokerMessage, OutgoingMessage } from './connector.js'
import { attemptFromHeader, incomingMessage, MESSAGE_HEADERS, messageHeaders } from './message-attributes.js'

/** Headers the broker sets on a delivery: a copy must not carry them, or it would look delivered or dead-lettered already. */
const BROKER_HEADERS = /^x-(?:delivery-count|death|first-death-.*|last-death-.*|acquired-count)$/
const DELIVERY_COUNT = 'x-delivery-count'

/** What amqplib can encode of a message's headers: its table buffer is 64 KiB, with room left for the other properties. */
export const MAX_HEADERS_BYTES = 60_000

/**
 * The AMQP properties of a message Roost publishes: persistent, its id as
 * message-id, its attributes as headers. Throws ValidationError for headers
 * too large for an AMQP table, so that a batch fails before any of it is sent.
 */
export function publishOptions (message: OutgoingMessage, now = Date.now()): Options.Publish {
  const headers = messageHeaders(message)
  const size = headersSize(headers)
  if (size > MAX_HEADERS_BYTES) {
    throw new ValidationError([{ field: 'attributes', message: `a message's attributes take ${size} bytes as AMQP headers, more than ${MAX_HEADERS_BYTES}` }], {
      hint: 'keep large values in the body: RabbitMQ carries attributes in the message\'s header table'
    })
  }
  return {
    messageId: message.id,
    contentType: message.contentType,
    headers,
    // AMQP's timestamp is in seconds; other tools show it as a date.
    timestamp: Math.floor(now / 1000),
    persistent: true,
    mandatory: true
  }
}

export function bodyBuffer (body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}

/**
 * The attempt a delivery is: the attempt its copy started at (x-roost-attempt,
 * 1 for a message published once) plus the returns the quorum queue counted
 * (x-delivery-count; a classic queue has only the redelivered flag).
 */
export function deliveryAttempt (delivery: Pick<Message, 'fields' | 'properties'>): number {
  const headers = delivery.properties.headers ?? {}
  const base = attemptFromHeader(headers[MESSAGE_HEADERS.attempt]) ?? 1
  const count = Number(headers[DELIVERY_COUNT])
  const returns = Number.isSafeInteger(count) && count >= 0 ? count : (delivery.fields.redelivered ? 1 : 0)
  return base + returns
}

/** A delivery as Roost's BrokerMessage: attributes from the headers, or derived for a message another client published. */
export function deliveryMessage (queue: string, delivery: Pick<Message, 'fields' | 'properties' | 'content'>, now = Date.now()): BrokerMessage {
  const { properties, content } = delivery
  let headers: Record<string, unknown> | undefined = properties.headers
  if (typeof properties.contentType === 'string' && headers?.[MESSAGE_HEADERS.contentType] === undefined) {
    headers = { ...headers, [MESSAGE_HEADERS.contentType]: properties.contentType }
  }
  return incomingMessage(headers, content, { kind: 'rabbitmq', queue, brokerId: brokerId(delivery) }, deliveryAttempt(delivery), publishedAt(properties.timestamp, now))
}

const NO_PROPERTIES = JSON.stringify(['', '', ''])
const ID_SCRATCH = Buffer.allocUnsafe(4096)

/**
 * The message-id, or, for a message published without one, an id derived
 * from what stays the same when it is delivered again (its bytes and
 * publisher-set properties), so that redeliveries keep it.
 */
export function brokerId (delivery: Pick<Message, 'properties' | 'content'>): string {
  const { messageId, timestamp, correlationId, appId } = delivery.properties
  if (typeof messageId === 'string' && messageId.length > 0) return messageId
  // sha256 of the properties' JSON and then the bytes, hashed in one call (no Hash object per message: a drain's platform thread spent a tenth of itself here),
  // answered as hex: a Buffer answer and its toString cost four times the hash.
  const properties = timestamp === undefined && correlationId === undefined && appId === undefined
    ? NO_PROPERTIES
    : JSON.stringify([String(timestamp ?? ''), String(correlationId ?? ''), String(appId ?? '')])
  const content = delivery.content
  const size = Buffer.byteLength(properties) + content.length
  // hash() is synchronous: one scratch buffer serves every small message.
  const input = size <= ID_SCRATCH.length ? ID_SCRATCH.subarray(0, size) : Buffer.allocUnsafe(size)
  content.copy(input, input.write(properties, 0, 'utf8'))
  return `amqp-${hash('sha256', input, 'hex').slice(0, 32)}`
}

/**
 * The properties of a copy of a delivery that starts again at `attempt`
 * (a delayed retry, a release, a message given back): the publisher's own
 * properties and headers, the stable id as message-id, and none of what the
 * broker added on the way.
 */
export function copyOptions (delivery: Pick<Message, 'properties'>, id: string, attempt: number): Options.Publish {
  const p = delivery.properties
  const headers: Record<string, unknown> = {}
  for (const name in p.headers ?? {}) if (!BROKER_HEADERS.test(name)) headers[name] = (p.headers as Record<string, unknown>)[name]
  headers[MESSAGE_HEADERS.attempt] = String(attempt)
  const options: Options.Publish = { messageId: id, headers, persistent: true, mandatory: true }
  if (p.contentType !== undefined) options.contentType = p.contentType
  if (p.contentEncoding !== undefined) options.contentEncoding = p.contentEncoding
  if (p.priority !== undefined) options.priority = p.priority
  if (p.correlationId !== undefined) options.correlationId = p.correlationId
  if (p.replyTo !== undefined) options.replyTo = p.replyTo
  if (p.timestamp !== undefined) options.timestamp = p.timestamp
  if (p.type !== undefined) options.type = p.type
  if (p.appId !== undefined) options.appId = p.appId
  // Not userId (the broker refuses one that is not the connection's user) nor expiration (the copy's wait is the delay queue's).
  return options
}

// Seconds as AMQP has them; a value that can only be milliseconds (some clients write Date.now()) is taken as such.
// A string in an AMQP table: its name (a short string) and its value (a long string), each with its length and type.
function headersSize (headers: Readonly<Record<string, string>>): number {
  let size = 0
  for (const name in headers) size += 1 + Buffer.byteLength(name) + 1 + 4 + Buffer.byteLength(headers[name] as string)
  return size
}

function publishedAt (timestamp: unknown, now: number): number {
  const value = typeof timestamp === 'bigint' ? Number(timestamp) : Number(timestamp)
  if (!Number.isFinite(value) || value <= 0) return now
  return value >= 1e11 ? value : value * 1000
}
