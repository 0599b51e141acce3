// How a message's CloudEvents attributes travel in a broker's headers (NATS
// headers, Redis stream fields, AMQP application headers), in the shape of the
// CloudEvents binary mode: ce-<attribute> percent-encoded, the data's media
// type as content-type, and Roost's body type beside it. A message a broker's
// own client published without them gets attributes derived from where it came
// from, and its body type from its bytes. Pure: every connector shares it.
import { isUtf8 } from 'node:buffer'
import type { FieldProblem } from '../errors/index.js'
import { ValidationError } from '../errors/index.js'
import type { BodyType } from '../events/index.js'
import { defaultContentType, extensionNameProblem, isJsonText, percentEncode, RECORD_LIMITS, SPEC_VERSION } from '../events/index.js'
import type { BrokerMessage, ConnectorKind, OutgoingMessage } from './connector.js'

export const MESSAGE_HEADERS = Object.freeze({
  specVersion: 'ce-specversion',
  id: 'ce-id',
  source: 'ce-source',
  type: 'ce-type',
  subject: 'ce-subject',
  contentType: 'content-type',
  bodyType: 'x-roost-body-type',
  /** The attempt a re-published retry is, where the broker does not count deliveries itself. */
  attempt: 'x-roost-attempt'
} as const)

/** The type of a message a broker's own client published with no ce-type. */
export const FOREIGN_MESSAGE_TYPE = 'dev.roost.message'

const CE_PREFIX = 'ce-'
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/ // eslint-disable-line no-control-regex
// CloudEvents context attributes that a BrokerMessage has no place for, and that are no extension either.
const UNCARRIED_ATTRIBUTES = new Set(['specversion', 'time', 'dataschema', 'datacontenttype'])
/** The attributes of a message that has none, which is most of them: one frozen object rather than one each. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({})

/** Headers as a broker's client gives them: names in any case; values strings, bytes, numbers, or lists of them. */
export type HeaderValues = Readonly<Record<string, unknown>>

/** Where a message came from, for the attributes derived when its publisher sent none. */
export interface MessageOrigin {
  kind: ConnectorKind
  /** The stream, stream key or queue it was read from. */
  queue: string
  /** The broker's own id for it: a stream sequence, an entry id, a delivery's message-id. */
  brokerId: string
}

/** A received message's attributes, as a BrokerMessage carries them. */
export interface IncomingAttributes {
  id: string
  source: string
  type: string
  subject: string | undefined
  contentType: string
  bodyType: BodyType
  attributes: Record<string, string>
}

/**
 * The headers that carry a message's attributes, lower-case names. Throws
 * ValidationError for an attribute name that is not a CloudEvents extension
 * name (it would collide with ce-id and its like) or a content type with
 * control characters (it would break a header line).
 */
export function messageHeaders (message: OutgoingMessage): Record<string, string> {
  const problems: FieldProblem[] = []
  if (CONTROL_CHARACTERS.test(message.contentType)) {
    problems.push({ field: 'contentType', message: 'a content type has no control characters' })
  }
  const headers: Record<string, string> = {
    [MESSAGE_HEADERS.specVersion]: SPEC_VERSION,
    [MESSAGE_HEADERS.id]: percentEncode(message.id),
    [MESSAGE_HEADERS.source]: percentEncode(message.source),
    [MESSAGE_HEADERS.type]: percentEncode(message.type),
    [MESSAGE_HEADERS.contentType]: message.contentType,
    [MESSAGE_HEADERS.bodyType]: message.bodyType
  }
  if (message.subject !== undefined) headers[MESSAGE_HEADERS.subject] = percentEncode(message.subject)
  for (const name in message.attributes) {
    const problem = extensionNameProblem(name, `attributes.${name}`)
    if (problem === null) headers[CE_PREFIX + name] = percentEncode(message.attributes[name] as string)
    else problems.push(problem)
  }
  if (problems.length > 0) {
    throw new ValidationError(problems, { hint: 'attribute names are CloudEvents extension names: lower-case letters and digits' })
  }
  return headers
}

/**
 * A received message's attributes: each one from its header when the header
 * is there and usable, derived from the origin otherwise. Never throws:
 * whatever another client put in the headers, the message gets attributes
 * that Roost can store and deliver (a bad value is replaced, a bad extension
 * left out), and a body type that its bytes really are.
 */
export function incomingAttributes (headers: HeaderValues | undefined, body: Uint8Array, origin: MessageOrigin): IncomingAttributes {
  const m = incomingMessage(headers, body, origin, 1, 0)
  return { id: m.id, source: m.source, type: m.type, subject: m.subject, contentType: m.contentType, bodyType: m.bodyType, attributes: m.attributes }
}

/**
 * The message a connector hands out for what it received, with its
 * attributes as incomingAttributes reads them: in one shape and one property
 * order for every broker (the consumer's code that reads messages stays
 * monomorphic), made as one object, as a fetch makes one per message.
 */
export function incomingMessage (headers: HeaderValues | undefined, body: Uint8Array, origin: MessageOrigin, attempt: number, publishedAt: number): BrokerMessage {
  let id: string | undefined
  let source: string | undefined
  let type: string | undefined
  let subject: string | undefined
  let contentType: string | undefined
  let ceContentType: string | undefined
  let declaredBodyType: string | undefined
  let attributes = NO_ATTRIBUTES
  let extensions = 0
  for (const rawName in headers) {
    const value = headerText(headers[rawName])
    if (value === undefined) continue
    const name = rawName.toLowerCase()
    if (name === MESSAGE_HEADERS.contentType) contentType = value
    else if (name === MESSAGE_HEADERS.bodyType) declaredBodyType = value
    else if (name.startsWith(CE_PREFIX)) {
      const attribute = name.slice(CE_PREFIX.length)
      const decoded = percentDecoded(value)
      switch (attribute) {
        case 'id': id = decoded; break
        case 'source': source = decoded; break
        case 'type': type = decoded; break
        case 'subject': subject = decoded; break
        case 'datacontenttype': ceContentType = decoded; break
        default:
          if (UNCARRIED_ATTRIBUTES.has(attribute) || extensions >= RECORD_LIMITS.maxAttributes) break
          if (extensionNameProblem(attribute, name) !== null || decoded.length > RECORD_LIMITS.maxAttributeValueLength) break
          if (attributes === NO_ATTRIBUTES) attributes = {}
          attributes[attribute] = decoded
          extensions++
      }
    }
  }
  const mediaType = usableText(contentType ?? ceContentType, RECORD_LIMITS.maxTextAttributeLength)
  const bodyType = detectBodyType(body, mediaType, declaredBodyType)
  return {
    id: usableText(id, RECORD_LIMITS.maxIdLength) ?? origin.brokerId,
    attempt,
    body,
    bodyType,
    source: usableText(source, RECORD_LIMITS.maxTextAttributeLength) ?? brokerSource(origin),
    type: usableText(type, RECORD_LIMITS.maxTextAttributeLength) ?? FOREIGN_MESSAGE_TYPE,
    subject: usableText(subject, RECORD_LIMITS.maxTextAttributeLength),
    contentType: mediaType ?? defaultContentType(bodyType),
    attributes,
    publishedAt
  }
}

/** The source of a message published with none: `/brokers/<kind>/<stream or queue>`. */
export function brokerSource (origin: Pick<MessageOrigin, 'kind' | 'queue'>): string {
  // The messages of one fetch come from one queue: one string for all of them, which the delivery then writes once.
  if (origin.kind !== lastSource.kind || origin.queue !== lastSource.queue) lastSource = { kind: origin.kind, queue: origin.queue, source: `/brokers/${origin.kind}/${origin.queue}` }
  return lastSource.source
}

let lastSource = { kind: '', queue: '', source: '' }

/**
 * What the bytes are. A declared type (Roost's x-roost-body-type) is kept
 * when the bytes bear it out; otherwise json when the content type says
 * JSON, or there is none, and the bytes parse; text when they are UTF-8;
 * bytes otherwise. Checked even when declared because json and text bodies
 * are spliced into a delivery as they are: bytes that are not what their
 * type says would spoil the delivery of the whole batch.
 */
export function detectBodyType (body: Uint8Array, contentType: string | undefined, declared?: string): BodyType {
  switch (declared) {
    case 'bytes': return 'bytes'
    case 'text': return textOrBytes(body)
    case 'json': return parsesAsJson(body) ? 'json' : textOrBytes(body)
  }
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase()
  if (mediaType === 'application/octet-stream') return 'bytes'
  if (mediaType === undefined || mediaType === '' || JSON_MEDIA_TYPE.test(mediaType)) {
    return parsesAsJson(body) ? 'json' : textOrBytes(body)
  }
  return textOrBytes(body)
}

/** The attempt an x-roost-attempt header names, or undefined when it names none (absent, not a whole number ≥ 1). */
export function attemptFromHeader (value: unknown): number | undefined {
  const text = headerText(value)
  if (text === undefined || !/^[1-9]\d{0,8}$/.test(text)) return undefined
  return Number(text)
}

function textOrBytes (body: Uint8Array): BodyType {
  return isUtf8(body) ? 'text' : 'bytes'
}

function parsesAsJson (body: Uint8Array): boolean {
  return body.byteLength > 0 && isUtf8(body) && isJsonText(body)
}

function headerText (value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return isUtf8(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8') : undefined
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  // NATS gives a header that came several times as a list: the first one counts, as for ce-id in HTTP.
  if (Array.isArray(value)) return value.length === 0 ? undefined : headerText(value[0])
  return undefined
}

// A value that is not valid percent-encoding is taken as it is: it is a string either way.
function percentDecoded (value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function usableText (value: string | undefined, maxLength: number): string | undefined {
  return value === undefined || value.length === 0 || value.length > maxLength ? undefined : value
}
