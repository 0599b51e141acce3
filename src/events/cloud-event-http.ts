// The CloudEvents HTTP protocol binding (cloudevents/spec
// bindings/http-protocol-binding.md): the mode is chosen by Content-Type
// (application/cloudevents… is structured, application/cloudevents-batch… is
// batched, anything else binary); binary mode carries each attribute as a
// ce-<name> header, percent-encoded, and the data as the body.
import { BadRequestError, ValidationError } from '../errors/index.js'
import type { CloudEventAttributes } from './cloud-event.js'
import { SPEC_VERSION, validateAttributes } from './cloud-event.js'

/** Request headers as Node gives them: lower-case names. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>

export interface ReceivedCloudEvent {
  mode: 'binary' | 'structured'
  attributes: CloudEventAttributes
  /** The data's bytes (for JSON data in structured mode, its JSON text); undefined when the event has none. */
  data: Uint8Array | undefined
}

const CE_PREFIX = 'ce-'
const STRUCTURED_JSON = 'application/cloudevents+json'

/**
 * The CloudEvent a request carries, or undefined when it is a plain request
 * (no ce-* header, no cloudevents content type). Throws ValidationError when
 * it is an event with missing or malformed attributes.
 */
export function receiveCloudEvent (headers: HeaderMap, body: Uint8Array): ReceivedCloudEvent | undefined {
  const contentType = single(headers['content-type'])
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase()
  if (mediaType?.startsWith('application/cloudevents-batch') === true) {
    throw new BadRequestError('batched CloudEvents (application/cloudevents-batch+json) are not accepted', { hint: 'send one event per request, in binary or structured mode' })
  }
  if (mediaType?.startsWith('application/cloudevents') === true) {
    if (mediaType !== STRUCTURED_JSON) {
      throw new BadRequestError(`the structured CloudEvents format ${mediaType} is not supported`, { hint: `use ${STRUCTURED_JSON}, or binary mode` })
    }
    return { mode: 'structured', ...parseStructured(body) }
  }
  return parseBinary(headers, contentType, body)
}

function parseBinary (headers: HeaderMap, contentType: string | undefined, body: Uint8Array): ReceivedCloudEvent | undefined {
  const raw: Record<string, unknown> = {}
  let any = false
  for (const [header, value] of Object.entries(headers)) {
    if (!header.startsWith(CE_PREFIX) || value === undefined) continue
    any = true
    const name = header.slice(CE_PREFIX.length)
    if (name === 'datacontenttype') {
      throw new ValidationError([{ field: header, message: 'in binary mode the data content type is the Content-Type header; ce-datacontenttype must not be sent' }])
    }
    raw[name] = percentDecode(single(value) as string, header)
  }
  if (!any) return undefined
  if (contentType !== undefined) raw.datacontenttype = contentType
  const attributes = validateAttributes(raw, (name) => name === 'datacontenttype' ? 'content-type' : CE_PREFIX + name)
  return { mode: 'binary', attributes, data: body.byteLength === 0 ? undefined : body }
}

function parseStructured (body: Uint8Array): Omit<ReceivedCloudEvent, 'mode'> {
  let document: unknown
  try {
    document = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch (error) {
    throw new BadRequestError(`the structured CloudEvent is not JSON: ${(error as Error).message}`)
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ValidationError([{ field: '', message: 'a structured CloudEvent is a JSON object' }])
  }
  const { data, data_base64: base64, ...raw } = document as Record<string, unknown>
  if (data !== undefined && base64 !== undefined) {
    throw new ValidationError([{ field: 'data_base64', message: 'an event has data or data_base64, not both' }])
  }
  const attributes = validateAttributes(raw, (name) => name)
  return { attributes, data: structuredData(data, base64, attributes.datacontenttype) }
}

// JSON data travels as JSON; a string under a non-JSON content type is that text itself.
function structuredData (data: unknown, base64: unknown, contentType: string | undefined): Uint8Array | undefined {
  if (base64 !== undefined) {
    if (typeof base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
      throw new ValidationError([{ field: 'data_base64', message: 'data_base64 must be a base64 string' }])
    }
    return Buffer.from(base64, 'base64')
  }
  if (data === undefined) return undefined
  if (typeof data === 'string' && contentType !== undefined && !isJsonMediaType(contentType)) return Buffer.from(data, 'utf8')
  return Buffer.from(JSON.stringify(data), 'utf8')
}

function isJsonMediaType (contentType: string): boolean {
  const media = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? ''
  return media === 'application/json' || media === 'text/json' || media.endsWith('+json')
}

/**
 * The headers that carry these attributes in binary mode: ce-* for each
 * (datacontenttype as Content-Type), values percent-encoded as the binding says.
 */
export function cloudEventHeaders (attributes: CloudEventAttributes): Record<string, string> {
  const headers: Record<string, string> = {
    'ce-specversion': SPEC_VERSION,
    'ce-id': percentEncode(attributes.id),
    'ce-source': percentEncode(attributes.source),
    'ce-type': percentEncode(attributes.type)
  }
  if (attributes.datacontenttype !== undefined) headers['content-type'] = attributes.datacontenttype
  if (attributes.dataschema !== undefined) headers['ce-dataschema'] = percentEncode(attributes.dataschema)
  if (attributes.subject !== undefined) headers['ce-subject'] = percentEncode(attributes.subject)
  if (attributes.time !== undefined) headers['ce-time'] = percentEncode(attributes.time)
  for (const [name, value] of Object.entries(attributes.extensions)) headers[CE_PREFIX + name] = percentEncode(String(value))
  return headers
}

// Space, '"', '%' and anything outside printable ASCII are escaped as the %XX of their UTF-8 bytes.
export function percentEncode (value: string): string {
  if (/^[\x21\x23-\x24\x26-\x7e]*$/.test(value)) return value
  let out = ''
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25
      ? String.fromCharCode(byte)
      : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

// decodeURIComponent accepts lower-case hex and throws on a bad escape or invalid UTF-8, as the binding asks.
function percentDecode (value: string, header: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    throw new ValidationError([{ field: header, message: `${header} has a bad percent-encoding or invalid UTF-8` }])
  }
}

function single (value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' || value === undefined ? value : value.join(',')
}
