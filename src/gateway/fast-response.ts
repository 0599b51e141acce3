import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { BodyReceiver, ProxyResponse } from './call-messages.js'
import { WireError, writeLatin1 } from '../wire/index.js'
import { httpDate } from './http-date.js'

/** What a response tells the connection it is written on. */
export interface ResponseOwner {
  /** The response's last byte was handed to the socket. */
  responseEnded (res: FastResponse): void
}

const enum Framing { Pending, Length, Chunked, None }

/** tchar (RFC 9110 §5.6.2), and a field value's bytes (node's own check, so the fast path refuses what writeHead refuses). */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/
const STATUS_LINES: string[] = []
const CHUNK_END = Buffer.from('\r\n', 'latin1')
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1')

/**
 * The response to a FastRequest, written straight to the caller's socket: the
 * head is held until the first body bytes or the end, so a whole answer leaves
 * in one write, with a Content-Length; a response that streams is chunked.
 * It implements what the gateway uses of node's ServerResponse, and refuses
 * the same header bytes writeHead refuses (no response splitting).
 */
export class FastResponse implements ProxyResponse {
  call: BodyReceiver | null = null
  expectContinue = false
  keepAliveAfterContinue = false
  arrivedAt = 0
  shouldKeepAlive: boolean
  headersSent = false
  /** end() was called. */
  finished = false
  /** writeHead was called and its head has not gone to the socket yet: it is rendered when it does, with what follows it. */
  private headPending = false
  private statusLine = ''
  private fields: string[] = NO_FIELDS
  /** The Date to add, or '' when the headers had one. */
  private date = ''
  private addClose = false
  private addChunked = false
  /** Content-Length to add, or -1. */
  private addLength = -1
  /** Bytes of the head so far, without its blank line and the additions decided after writeHead. */
  private headBytes = 0
  private framing = Framing.Pending
  /** Body bytes a Content-Length promised and not yet written (Framing.Length). */
  private owed = 0
  private closeListener: (() => void) | null = null
  /** The headers given to writeHead had a Connection: close. */
  private closeSaid = false

  constructor (
    private readonly owner: ResponseOwner,
    readonly socket: Socket,
    /** The request was HEAD: no body is ever written. */
    private readonly headOnly: boolean,
    keepAlive: boolean
  ) {
    this.shouldKeepAlive = keepAlive
  }

  get destroyed (): boolean {
    return this.socket.destroyed
  }

  get writableLength (): number {
    return this.socket.writableLength
  }

  writeHead (status: number, headers?: OutgoingHttpHeaders | string[]): this {
    if (this.headersSent) throw new WireError('ROOST_E_WIRE_MALFORMED', 'a second response head')
    const fields = Array.isArray(headers) ? headers : headers === undefined ? [] : pairsOf(headers)
    let length = -1
    let dated = false
    let headBytes = 0
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]
      const value = fields[i + 1]
      checkField(name, value)
      headBytes += name.length + value.length + 4
      if (name.length === 14 || name.length === 10 || name.length === 4) {
        const found = this.special(name, value)
        if (found >= 0) length = found
        else if (found === DATED) dated = true
      }
    }
    const statusLine = STATUS_LINES[status] ??= `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`
    this.statusLine = statusLine
    this.fields = fields
    this.date = dated ? '' : httpDate()
    this.headBytes = headBytes + statusLine.length + (dated ? 0 : DATE_LINE_BYTES + this.date.length)
    // A Connection: close among the headers ended keep-alive already (special) and says so itself.
    if (!this.shouldKeepAlive && !this.closeSaid) this.addClose = true
    if (this.headOnly || status === 204 || status === 304 || status < 200) this.framing = Framing.None
    else if (length >= 0) {
      this.framing = Framing.Length
      this.owed = length
    }
    this.headPending = true
    this.headersSent = true
    return this
  }

  write (chunk: Buffer): boolean {
    if (!this.headersSent) this.writeHead(200)
    if (this.framing === Framing.Pending) {
      this.framing = Framing.Chunked
      this.addChunked = true
    }
    return this.writeBody(chunk)
  }

  end (chunk?: Buffer | string): this {
    if (this.finished) return this
    this.finished = true
    if (!this.headersSent) this.writeHead(200)
    const body = chunk === undefined ? null : typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    if (this.headPending) {
      if (this.framing === Framing.Pending) {
        // The whole body is known: it gets a Content-Length, as node gives one.
        this.framing = Framing.Length
        this.owed = body === null ? 0 : body.length
        this.addLength = this.owed
      }
      this.writeWhole(body)
    } else if (body !== null && body.length > 0) {
      this.writeBody(body)
    }
    if (this.framing === Framing.Chunked) this.socket.write(LAST_CHUNK)
    else if (this.framing === Framing.Length && this.owed !== 0) {
      // Fewer bytes than the Content-Length said: the caller would wait for the rest forever.
      this.socket.destroy()
    }
    this.owner.responseEnded(this)
    return this
  }

  destroy (): void {
    this.socket.destroy()
  }

  writeContinue (): void {
    this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1')
  }

  once (_event: 'drain', listener: () => void): this {
    this.socket.once('drain', listener)
    return this
  }

  /** The one 'close' listener the gateway attaches: called if the caller leaves before the end. */
  on (_event: 'close', listener: () => void): this {
    this.closeListener = listener
    return this
  }

  /** The caller's socket closed. */
  closed (): void {
    if (this.finished) return
    const listener = this.closeListener
    this.closeListener = null
    listener?.call(this)
  }

  /** A Content-Length's value (or -1); DATED for a Date; NOTHING for other names. Connection: close also ends keep-alive. */
  private special (name: string, value: string): number {
    const lower = name.toLowerCase()
    if (lower === 'content-length') {
      const length = Number(value)
      if (!Number.isSafeInteger(length) || length < 0) throw new WireError('ROOST_E_WIRE_MALFORMED', `a Content-Length of ${JSON.stringify(value)}`)
      return length
    }
    if (lower === 'connection' && value.toLowerCase().includes('close')) {
      this.shouldKeepAlive = false
      this.closeSaid = true
    }
    else if (lower === 'date') return DATED
    return NOTHING
  }

  /** The head and, with it, the body given at end(): one buffer, one write. */
  private writeWhole (body: Buffer | null): void {
    const bodyBytes = body === null || this.framing === Framing.None ? 0 : body.length
    if (bodyBytes > this.owed && this.framing === Framing.Length) {
      this.headPending = false
      this.socket.destroy()
      return
    }
    const out = this.renderHead(bodyBytes)
    if (bodyBytes > 0) (body as Buffer).copy(out, out.length - bodyBytes)
    this.owed -= bodyBytes
    this.socket.write(out)
  }

  /**
   * The pending head, blank line included, in a new buffer with `room` bytes
   * after it. Written byte by byte rather than as one concatenated string:
   * no string to build and flatten per response.
   */
  private renderHead (room: number): Buffer {
    this.headPending = false
    const lengthText = this.addLength >= 0 ? String(this.addLength) : ''
    const size = this.headBytes +
      (this.addLength >= 0 ? LENGTH_LINE_BYTES + lengthText.length : 0) +
      (this.addChunked ? CHUNKED_LINE.length : 0) +
      (this.addClose ? CLOSE_LINE.length : 0) + 2
    const out = Buffer.allocUnsafe(size + room)
    let at = writeLatin1(out, 0, this.statusLine)
    const fields = this.fields
    this.fields = NO_FIELDS
    for (let i = 0; i < fields.length; i += 2) {
      at += writeLatin1(out, at, fields[i])
      out[at++] = COLON
      out[at++] = SP
      at += writeLatin1(out, at, fields[i + 1])
      out[at++] = CR
      out[at++] = LF
    }
    if (this.date !== '') at = line(out, at, 'date: ', this.date)
    if (this.addClose) at += writeLatin1(out, at, CLOSE_LINE)
    if (this.addLength >= 0) at = line(out, at, 'content-length: ', lengthText)
    if (this.addChunked) at += writeLatin1(out, at, CHUNKED_LINE)
    out[at++] = CR
    out[at] = LF
    return out
  }

  /** Body bytes after the head was decided: framed as a chunk, or counted against the Content-Length. */
  private writeBody (chunk: Buffer): boolean {
    const socket = this.socket
    if (this.headPending) {
      socket.cork()
      socket.write(this.renderHead(0))
      const written = this.writeBody(chunk)
      socket.uncork()
      return written
    }
    switch (this.framing) {
      case Framing.None:
        return true
      case Framing.Length:
        if (chunk.length > this.owed) {
          // More bytes than the Content-Length said would be read as the caller's next response.
          socket.destroy()
          return true
        }
        this.owed -= chunk.length
        return socket.write(chunk)
      default: {
        if (chunk.length === 0) return true
        socket.cork()
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
        socket.write(chunk)
        const written = socket.write(CHUNK_END)
        socket.uncork()
        return written
      }
    }
  }
}

const DATED = -2
const NOTHING = -1
const NO_FIELDS: string[] = []
const COLON = 58
const SP = 32
const CR = 13
const LF = 10
const DATE_LINE_BYTES = 'date: \r\n'.length
const LENGTH_LINE_BYTES = 'content-length: \r\n'.length
const CLOSE_LINE = 'connection: close\r\n'
const CHUNKED_LINE = 'transfer-encoding: chunked\r\n'

/** Writes `name` `value` CRLF at `at`; returns the offset after it. */
function line (out: Buffer, at: number, name: string, value: string): number {
  at += writeLatin1(out, at, name)
  at += writeLatin1(out, at, value)
  out[at] = CR
  out[at + 1] = LF
  return at + 2
}

/** An OutgoingHttpHeaders object as name/value pairs, one pair per value of a list. */
function pairsOf (headers: OutgoingHttpHeaders): string[] {
  const pairs: string[] = []
  for (const name in headers) {
    const given = headers[name]
    if (given === undefined) continue
    if (Array.isArray(given)) for (const value of given) pairs.push(name, value)
    else pairs.push(name, String(given))
  }
  return pairs
}

/**
 * Header names that passed checkField. An instance's header names arrive as
 * the same string objects from response to response (the wire's string
 * table), whose hashes V8 keeps: a lookup costs less than a test.
 */
const checkedNames = new Set<string>()
const CHECKED_LIMIT = 1024

/** Refuses what node's writeHead refuses: a name that is not a token, a value with a control byte. */
function checkField (name: string, value: string): void {
  if (!checkedNames.has(name)) {
    if (!TOKEN.test(name)) throw new WireError('ROOST_E_WIRE_MALFORMED', `a response header name of ${JSON.stringify(name)}`)
    if (checkedNames.size >= CHECKED_LIMIT) checkedNames.clear()
    checkedNames.add(name)
  }
  if (!isFieldValue(value)) throw new WireError('ROOST_E_WIRE_MALFORMED', `the value of response header ${name} has a byte a header cannot carry`)
}

/** Tab, visible ASCII, space and obs-text: INVALID_VALUE as a loop, which for a short value costs less than a regular expression's call. */
function isFieldValue (value: string): boolean {
  if (value.length > 64) return !INVALID_VALUE.test(value)
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x20 ? c !== 9 : c === 0x7f || c > 0xff) return false
  }
  return true
}
