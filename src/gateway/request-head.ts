// The fast path's request-head reader. It accepts a strict subset of
// HTTP/1.1 (RFC 9112) and calls everything else unsupported, which the
// gateway then hands, unread, to node's own parser (llhttp) with the rest of
// the connection. A subset cannot disagree with llhttp on where a message
// ends: it takes no Transfer-Encoding, no repeated Content-Length, no bare LF,
// no obs-fold, no byte outside visible ASCII, space and tab. node exposes
// llhttp only through node:http, whose per-request objects are what the fast
// path exists to avoid, so this part is written by hand.

import { readLatin1 } from '../wire/index.js'

/** The head is not all in yet. */
export const HEAD_INCOMPLETE = -1
/** Not in the subset: node's parser takes the connection from this request on. */
export const HEAD_UNSUPPORTED = -2

/** Heads larger than this go to node's parser (which answers 431 past its own 16 KiB). */
export const MAX_HEAD_BYTES = 16 * 1024
/** Requests with more header lines than this go to node's parser. */
const MAX_HEADER_LINES = 256
/** Content-Length values of more digits than this go to node's parser. */
const MAX_LENGTH_DIGITS = 15

const CR = 13
const LF = 10
const SP = 32
const HTAB = 9
const COLON = 58
const SLASH = 47
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')
const VERSION = Buffer.from('HTTP/1.1\r\n', 'latin1')

/** tchar (RFC 9110 §5.6.2): the bytes a header name is made of. */
const TOKEN = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1
for (let c = 48; c <= 57; c++) TOKEN[c] = 1
for (let c = 65; c <= 90; c++) TOKEN[c] = TOKEN[c + 32] = 1

/** What one request head says, filled in place. */
export interface ParsedHead {
  method: string
  url: string
  /** Names and values as sent, alternating, as node's rawHeaders. */
  rawHeaders: string[]
  /** -1 without a Content-Length. */
  contentLength: number
  /** The caller did not ask for the connection to close. */
  keepAlive: boolean
}

export function emptyHead (): ParsedHead {
  return { method: '', url: '', rawHeaders: [], contentLength: -1, keepAlive: true }
}

/**
 * Reads the request head that starts at `start` of `buf` into `into` (a new
 * rawHeaders array each time: the request keeps it). Returns the offset just
 * past the head's blank line, HEAD_INCOMPLETE, or HEAD_UNSUPPORTED.
 */
export function parseRequestHead (buf: Buffer, start: number, into: ParsedHead): number {
  const blank = buf.indexOf(HEAD_END, start)
  if (blank === -1) return buf.length - start > MAX_HEAD_BYTES ? HEAD_UNSUPPORTED : HEAD_INCOMPLETE
  if (blank - start > MAX_HEAD_BYTES) return HEAD_UNSUPPORTED
  let pos = readMethod(buf, start, into)
  if (pos < 0) return HEAD_UNSUPPORTED
  pos = readTarget(buf, pos, into)
  if (pos < 0 || buf.compare(VERSION, 0, VERSION.length, pos, pos + VERSION.length) !== 0) return HEAD_UNSUPPORTED
  pos += VERSION.length
  const raw: string[] = []
  into.rawHeaders = raw
  into.contentLength = -1
  into.keepAlive = true
  let hosts = 0
  // Each line ends at its CR; the one at `blank` is the last, and the blank line follows it.
  while (pos < blank + 2) {
    if (raw.length >= MAX_HEADER_LINES * 2) return HEAD_UNSUPPORTED
    const colon = readName(buf, pos)
    if (colon < 0) return HEAD_UNSUPPORTED
    let from = colon + 1
    while (buf[from] === SP || buf[from] === HTAB) from++
    const cr = readValue(buf, from)
    if (cr < 0) return HEAD_UNSUPPORTED
    let to = cr
    while (to > from && (buf[to - 1] === SP || buf[to - 1] === HTAB)) to--
    const name = readLatin1(buf, pos, colon)
    const value = readLatin1(buf, from, to)
    switch (colon - pos) {
      case 4:
        if (name.toLowerCase() === 'host' && ++hosts > 1) return HEAD_UNSUPPORTED
        break
      case 6:
        if (name.toLowerCase() === 'expect') return HEAD_UNSUPPORTED
        break
      case 7:
        if (name.toLowerCase() === 'upgrade') return HEAD_UNSUPPORTED
        break
      case 10:
        if (name.toLowerCase() === 'connection' && !readConnection(value, into)) return HEAD_UNSUPPORTED
        break
      case 14:
        if (name.toLowerCase() === 'content-length' && !readLength(value, into)) return HEAD_UNSUPPORTED
        break
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return HEAD_UNSUPPORTED
        break
    }
    raw.push(name, value)
    pos = cr + 2
  }
  // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2); node answers the rest 400.
  if (hosts !== 1) return HEAD_UNSUPPORTED
  return blank + 4
}

/** The methods the fast path takes, as constants: no string is made for them. */
function readMethod (buf: Buffer, start: number, into: ParsedHead): number {
  let pos = start
  while (pos - start < 8 && buf[pos] >= 65 && buf[pos] <= 90) pos++
  if (buf[pos] !== SP) return -1
  const method = methodOf(buf, start, pos - start)
  if (method === '') return -1
  into.method = method
  return pos + 1
}

function methodOf (buf: Buffer, start: number, length: number): string {
  const first = buf[start]
  switch (length) {
    case 3: return first === 71 && buf[start + 1] === 69 && buf[start + 2] === 84 ? 'GET' : first === 80 && buf[start + 1] === 85 && buf[start + 2] === 84 ? 'PUT' : ''
    case 4: return is(buf, start, 'POST') ? 'POST' : is(buf, start, 'HEAD') ? 'HEAD' : ''
    case 5: return is(buf, start, 'PATCH') ? 'PATCH' : ''
    case 6: return is(buf, start, 'DELETE') ? 'DELETE' : ''
    case 7: return is(buf, start, 'OPTIONS') ? 'OPTIONS' : ''
    default: return ''
  }
}

function is (buf: Buffer, start: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word.charCodeAt(i)) return false
  return true
}

/** origin-form only (a path and a query): visible ASCII, starting with /. */
function readTarget (buf: Buffer, start: number, into: ParsedHead): number {
  if (buf[start] !== SLASH) return -1
  let pos = start + 1
  while (buf[pos] > SP && buf[pos] < 127) pos++
  if (buf[pos] !== SP) return -1
  into.url = readLatin1(buf, start, pos)
  return pos + 1
}

/** The offset of the colon ending a header name of tchars, or -1. */
function readName (buf: Buffer, start: number): number {
  let pos = start
  while (TOKEN[buf[pos]] === 1) pos++
  return pos > start && buf[pos] === COLON ? pos : -1
}

/** The offset of the CR (followed by LF) ending a value of visible ASCII, space and tab, or -1. */
function readValue (buf: Buffer, start: number): number {
  let pos = start
  for (;;) {
    const c = buf[pos]
    if ((c >= SP && c < 127) || c === HTAB) {
      pos++
      continue
    }
    return c === CR && buf[pos + 1] === LF ? pos : -1
  }
}

/** One Content-Length of digits; a repeated one, or a list, goes to node. */
function readLength (value: string, into: ParsedHead): boolean {
  if (into.contentLength !== -1 || value.length === 0 || value.length > MAX_LENGTH_DIGITS) return false
  let length = 0
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return false
    length = length * 10 + digit
  }
  into.contentLength = length
  return true
}

/** Connection's options: close ends the connection after the answer; an upgrade goes to node. */
function readConnection (value: string, into: ParsedHead): boolean {
  const lower = value.toLowerCase()
  if (lower === 'keep-alive') return true
  for (const option of lower.split(',')) {
    const token = option.trim()
    if (token === 'close') into.keepAlive = false
    else if (token === 'upgrade') return false
  }
  return true
}
