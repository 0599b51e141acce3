import type { BodyType } from './record-types.js'

export interface EncodedBody {
  bytes: Buffer
  type: BodyType
}

const CONTENT_TYPES: Record<BodyType, string> = {
  json: 'application/json',
  text: 'text/plain; charset=utf-8',
  bytes: 'application/octet-stream'
}

/** Bytes as they are, a string as UTF-8 text, any other value as its JSON text. */
export function encodeBody (body: unknown): EncodedBody {
  // Buffer views the caller's bytes without a copy; SQLite binds a Buffer as a BLOB.
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), type: 'bytes' }
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8'), type: 'text' }
  const json = JSON.stringify(body)
  if (json === undefined) throw new TypeError(`a record body must be bytes, a string or a JSON value, not ${typeof body}`)
  return { bytes: Buffer.from(json, 'utf8'), type: 'json' }
}

/** The body as the handler sees it: a JSON value, a string, or bytes. */
export function decodeBody (bytes: Uint8Array, type: BodyType): unknown {
  if (type === 'bytes') return bytes
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  return type === 'json' ? JSON.parse(text) : text
}

export function defaultContentType (type: BodyType): string {
  return CONTENT_TYPES[type]
}
