import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { BodyReceiver, ProxyResponse } from './call-messages.js'
import { WireError } from '../wire/index.js'
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
  private head = ''
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
    let head = STATUS_LINES[status] ??= `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`
    let length = -1
    let dated = false
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]
        const value = headers[i + 1]
        checkField(name, value)
        head += `${name}: ${value}\r\n`
        if (name.length === 14 || name.length === 10 || name.length === 4) {
          const found = this.special(name, value)
          if (found >= 0) length = found
          else if (found === DATED) dated = true
        }
      }
    } else if (headers !== undefined) {
      for (const name in headers) {
        const given = headers[name]
        if (given === undefined) continue
        for (const value of Array.isArray(given) ? given : [String(given)]) {
          checkField(name, value)
          head += `${name}: ${value}\r\n`
          const found = this.special(name, value)
          if (found >= 0) length = found
          else if (found === DATED) dated = true
        }
      }
    }
    if (!dated) head += `date: ${httpDate()}\r\n`
    // A Connection: close among the headers ended keep-alive already (special) and says so itself.
    if (!this.shouldKeepAlive && !this.closeSaid) head += 'connection: close\r\n'
    if (this.headOnly || status === 204 || status === 304 || status < 200) this.framing = Framing.None
    else if (length >= 0) {
      this.framing = Framing.Length
      this.owed = length
    }
    this.head = head
    this.headersSent = true
    return this
  }

  write (chunk: Buffer): boolean {
    if (!this.headersSent) this.writeHead(200)
    if (this.framing === Framing.Pending) {
      this.framing = Framing.Chunked
      this.head += 'transfer-encoding: chunked\r\n'
    }
    return this.writeBody(chunk)
  }

  end (chunk?: Buffer | string): this {
    if (this.finished) return this
    this.finished = true
    if (!this.headersSent) this.writeHead(200)
    const body = chunk === undefined ? null : typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    if (this.head !== '') {
      if (this.framing === Framing.Pending) {
        // The whole body is known: it gets a Content-Length, as node gives one.
        this.framing = Framing.Length
        this.owed = body === null ? 0 : body.length
        this.head += `content-length: ${this.owed}\r\n`
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
    const head = this.head
    this.head = ''
    const bodyBytes = body === null || this.framing === Framing.None ? 0 : body.length
    if (bodyBytes > this.owed && this.framing === Framing.Length) {
      this.socket.destroy()
      return
    }
    const out = Buffer.allocUnsafe(head.length + 2 + bodyBytes)
    out.write(head, 0, 'latin1')
    out[head.length] = 13
    out[head.length + 1] = 10
    if (bodyBytes > 0) (body as Buffer).copy(out, head.length + 2)
    this.owed -= bodyBytes
    this.socket.write(out)
  }

  /** Body bytes after the head was decided: framed as a chunk, or counted against the Content-Length. */
  private writeBody (chunk: Buffer): boolean {
    const socket = this.socket
    if (this.head !== '') {
      const head = this.head
      this.head = ''
      socket.cork()
      socket.write(`${head}\r\n`, 'latin1')
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

function checkField (name: string, value: string): void {
  if (!TOKEN.test(name)) throw new WireError('ROOST_E_WIRE_MALFORMED', `a response header name of ${JSON.stringify(name)}`)
  if (INVALID_VALUE.test(value)) throw new WireError('ROOST_E_WIRE_MALFORMED', `the value of response header ${name} has a byte a header cannot carry`)
}
