import type { OutgoingHttpHeaders } from 'node:http'
import type { BodyReceiver, ProxyResponse } from './call-messages.js'
import { MAX_ANSWER_BYTES } from './delivery-messages.js'

/** What a PortResponse tells the port it came from. */
export interface PortAnswers {
  answered (id: number, status: number, headers: Record<string, string>, body: Uint8Array): void
  failed (id: number, error: string): void
}

/**
 * The answer to a delivery handed over in this process (delivery-port.ts),
 * gathered whole and posted back once it ends (a delivery's answer is read
 * whole anyway); a body past MAX_ANSWER_BYTES is answered cut there, and the
 * rest is refused as a caller that left would.
 */
export class PortResponse implements ProxyResponse {
  call: BodyReceiver | null = null
  expectContinue = false
  keepAliveAfterContinue = false
  arrivedAt = 0
  shouldKeepAlive = true
  headersSent = false
  readonly writableLength = 0
  readonly socket = null
  /** end() was called, or the answer was cut. */
  private finished = false
  /** Answered, failed or cancelled: nothing more goes to the port. */
  private done = false
  private status = 200
  private fields: Record<string, string> = {}
  private readonly chunks: Buffer[] = []
  private size = 0
  private closeListener: (() => void) | null = null

  constructor (readonly id: number, private readonly owner: PortAnswers) {}

  get destroyed (): boolean {
    return this.done && !this.finished
  }

  writeHead (status: number, headers?: OutgoingHttpHeaders | string[]): this {
    if (this.headersSent) throw new Error('a second response head')
    this.status = status
    this.fields = headers === undefined ? {} : Array.isArray(headers) ? fieldsOfPairs(headers) : fieldsOf(headers)
    this.headersSent = true
    return this
  }

  write (chunk: Buffer): boolean {
    if (this.done) return true
    if (!this.headersSent) this.writeHead(200)
    const room = MAX_ANSWER_BYTES - this.size
    if (chunk.length < room) {
      this.chunks.push(chunk)
      this.size += chunk.length
      return true
    }
    this.chunks.push(chunk.subarray(0, room))
    this.size += room
    // Cut: the answer goes as it is, and the instance is told its caller left.
    this.finished = true
    this.reply()
    this.leave()
    return true
  }

  end (chunk?: Buffer | string): this {
    if (this.finished || this.done) return this
    if (chunk !== undefined) this.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)
    if (this.finished) return this
    this.finished = true
    if (!this.headersSent) this.writeHead(200)
    this.reply()
    return this
  }

  /** The gateway cut the answer short (an instance that broke off mid-response). */
  destroy (): void {
    if (this.done) return
    this.done = true
    this.owner.failed(this.id, 'the gateway closed the delivery before it was answered in whole')
    this.leave()
  }

  // A delivery never asks for 100-continue, and its answer is never held back.
  writeContinue (): void {}

  once (_event: 'drain', listener: () => void): this {
    queueMicrotask(listener)
    return this
  }

  /** The one 'close' listener the gateway attaches: called if the caller leaves before the end. */
  on (_event: 'close', listener: () => void): this {
    this.closeListener = listener
    return this
  }

  /** The control plane stopped waiting (its time ran out, or it was aborted). */
  cancel (): void {
    if (this.done) return
    this.done = true
    this.leave()
  }

  private leave (): void {
    const listener = this.closeListener
    this.closeListener = null
    listener?.call(this)
  }

  private reply (): void {
    this.done = true
    // One ArrayBuffer of the answer's own size: it is moved to the other thread, never a pool's slab.
    const body = new Uint8Array(this.size)
    let at = 0
    for (const chunk of this.chunks) {
      body.set(chunk, at)
      at += chunk.length
    }
    this.chunks.length = 0
    this.owner.answered(this.id, this.status, this.fields, body)
  }
}

function fieldsOf (headers: OutgoingHttpHeaders): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value === undefined) continue
    add(fields, name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value))
  }
  return fields
}

function fieldsOfPairs (pairs: string[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) add(fields, pairs[i].toLowerCase(), pairs[i + 1])
  return fields
}

function add (fields: Record<string, string>, name: string, value: string): void {
  const seen = fields[name]
  fields[name] = seen === undefined ? value : `${seen}, ${value}`
}
