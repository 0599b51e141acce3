import { readU16, readU32, writeU16, writeU32 } from './big-endian.js'
import { readLatin1, writeLatin1 } from './latin1-text.js'
import { WireError } from './wire-error.js'

// Request and response heads in a compact binary form: no HTTP text to parse
// on the internal hop. Strings are latin1, as node hands header values and
// URLs over, so a string's length is its byte length.
//
//   request:  u8 flags | f64 deadline | u16 method | u32 url | u16 requestId | u16 n | n × (u16 name, u32 value)
//   response: u16 status | u16 n | n × (u16 name, u32 value)
//
// each string as its length (the width given) followed by its bytes.

export const enum RequestFlags {
  /** Body frames follow; without it the request has no body (RequestEnd is implied). */
  HasBody = 1,
  /**
   * The gateway vouches for an `x-roost-event` header among the headers (a
   * delivery of the platform's own): only then does the runtime look for it,
   * so a plain request pays nothing for events.
   */
  Event = 2
}

export interface RequestHead {
  flags: number
  /** Epoch milliseconds after which the gateway has answered 504 on the caller's behalf. */
  deadline: number
  method: string
  /** Path and query as the function sees them (the route's prefix removed). */
  url: string
  requestId: string
  /** Flat list of names and values, as node's rawHeaders. */
  headers: string[]
}

export interface ResponseHead {
  status: number
  headers: string[]
}

const MAX_U16 = 0xffff

export function requestHeadSize (head: RequestHead): number {
  return 1 + 8 + 2 + head.method.length + 4 + head.url.length + 2 + head.requestId.length + headersSize(head.headers)
}

export function responseHeadSize (head: ResponseHead): number {
  return 2 + headersSize(head.headers)
}

function headersSize (headers: string[]): number {
  let size = 2
  for (let i = 0; i < headers.length; i += 2) size += 6 + headers[i].length + headers[i + 1].length
  return size
}

export function writeRequestHead (buffer: Buffer, at: number, head: RequestHead): void {
  buffer[at] = head.flags
  buffer.writeDoubleBE(head.deadline, at + 1)
  at = writeString16(buffer, at + 9, head.method)
  writeU32(buffer, at, head.url.length)
  at += 4
  at += writeLatin1(buffer, at, head.url)
  at = writeString16(buffer, at, head.requestId)
  writeHeaders(buffer, at, head.headers)
}

export function writeResponseHead (buffer: Buffer, at: number, head: ResponseHead): void {
  if (!Number.isInteger(head.status) || head.status < 0 || head.status > MAX_U16) throw new RangeError(`a status of ${head.status} does not fit a response head`)
  writeU16(buffer, at, head.status)
  writeHeaders(buffer, at + 2, head.headers)
}

function writeHeaders (buffer: Buffer, at: number, headers: string[]): void {
  const count = headers.length >> 1
  if (count > MAX_U16) throw new RangeError(`${count} headers are more than a head can carry`)
  writeU16(buffer, at, count)
  at += 2
  for (let i = 0; i < headers.length; i += 2) {
    at = writeString16(buffer, at, headers[i])
    const value = headers[i + 1]
    writeU32(buffer, at, value.length)
    at += 4
    at += writeLatin1(buffer, at, value)
  }
}

function writeString16 (buffer: Buffer, at: number, text: string): number {
  if (text.length > MAX_U16) throw new RangeError(`a string of ${text.length} bytes is longer than a head field can be`)
  writeU16(buffer, at, text.length)
  return at + 2 + writeLatin1(buffer, at + 2, text)
}

/** Reads a request head; throws WireError if the payload is not exactly one. */
export function readRequestHead (payload: Buffer): RequestHead {
  const reader = new HeadReader(payload)
  const flags = reader.u8()
  const deadline = reader.f64()
  const method = reader.string(reader.u16())
  const url = reader.string(reader.u32())
  const requestId = reader.string(reader.u16())
  const headers = reader.headers()
  reader.end()
  return { flags, deadline, method, url, requestId, headers }
}

/** Reads a response head; throws WireError if the payload is not exactly one. */
export function readResponseHead (payload: Buffer): ResponseHead {
  const reader = new HeadReader(payload)
  const status = reader.u16()
  const headers = reader.headers()
  reader.end()
  return { status, headers }
}

class HeadReader {
  private at = 0

  constructor (private readonly buffer: Buffer) {}

  u8 (): number {
    this.need(1)
    return this.buffer[this.at++]
  }

  u16 (): number {
    this.need(2)
    const value = readU16(this.buffer, this.at)
    this.at += 2
    return value
  }

  u32 (): number {
    this.need(4)
    const value = readU32(this.buffer, this.at)
    this.at += 4
    return value
  }

  f64 (): number {
    this.need(8)
    const value = this.buffer.readDoubleBE(this.at)
    this.at += 8
    return value
  }

  string (length: number): string {
    this.need(length)
    const text = readLatin1(this.buffer, this.at, this.at + length)
    this.at += length
    return text
  }

  headers (): string[] {
    const count = this.u16()
    // Each header takes at least 6 bytes: a count the payload cannot hold is a lie.
    this.need(count * 6)
    const headers = new Array<string>(count * 2)
    for (let i = 0; i < headers.length; i += 2) {
      headers[i] = this.string(this.u16())
      headers[i + 1] = this.string(this.u32())
    }
    return headers
  }

  end (): void {
    if (this.at !== this.buffer.length) throw new WireError('ROOST_E_WIRE_MALFORMED', `a head has ${this.buffer.length - this.at} bytes after its end`)
  }

  private need (bytes: number): void {
    if (this.at + bytes > this.buffer.length) throw new WireError('ROOST_E_WIRE_MALFORMED', 'a head ends before its fields do')
  }
}
