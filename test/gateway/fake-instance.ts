import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FrameDecoder, FrameType, FrameWriter, MAX_DATA_PAYLOAD_BYTES, RequestFlags, readRequestHead, type RequestHead } from '../../src/wire/index.js'

// A stand-in for an instance's data socket, speaking the framed protocol of
// docs/internal-protocol.md over a real Unix socket: the peer the gateway's
// unit tests talk to. Requests reach a handler with a small HTTP-like API;
// tests can also send raw frames, GoAway, or close connections.

export interface FakeRequest extends EventEmitter {
  head: RequestHead
  method: string
  url: string
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>
  stream: number
  connection: FakeConnection
  /** Body bytes received so far. */
  received: number
  ended: boolean
  /** Resolves with the whole body once RequestEnd arrives. */
  body: () => Promise<Buffer>
}

export interface FakeResponse {
  writeHead: (status: number, headers?: Record<string, string | number>) => void
  write: (chunk: string | Buffer) => void
  end: (chunk?: string | Buffer) => void
  abort: (reason: string) => void
  refuse: () => void
  /** The gateway sent Pause for this stream and no Resume since. */
  paused: boolean
  cancelled: boolean
  /** Frames the gateway sent about this stream besides the request: 'pause', 'resume', 'cancel'. */
  signals: string[]
}

export type FakeHandler = (req: FakeRequest, res: FakeResponse, instance: FakeInstance) => void

export class FakeConnection {
  readonly writer: FrameWriter
  /** The secret the gateway sent in Hello ('' before it did). */
  hello = ''
  readonly streams = new Map<number, { req: FakeRequest, res: FakeResponse }>()
  /** Every stream id the gateway opened on this connection, in order. */
  readonly opened: number[] = []
  closed = false
  goneAway = false

  constructor (readonly socket: Socket, private readonly instance: FakeInstance) {
    this.writer = new FrameWriter(socket)
    const decoder = new FrameDecoder((type, stream, payload) => this.onFrame(type, stream, Buffer.from(payload)), MAX_DATA_PAYLOAD_BYTES)
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk)
      } catch {
        socket.destroy()
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => { this.closed = true })
  }

  goAway (): void {
    this.goneAway = true
    this.writer.frame(FrameType.GoAway, 0)
    this.writer.flush()
  }

  /** A raw frame, sent at once. */
  send (type: number, stream: number, payload?: Buffer): void {
    this.writer.frame(type, stream, payload)
    this.writer.flush()
  }

  private onFrame (type: number, stream: number, payload: Buffer): void {
    if (this.hello === '') {
      if (type !== FrameType.Hello || payload.toString('utf8') !== this.instance.secret) {
        this.instance.badHellos++
        this.socket.destroy()
        return
      }
      this.hello = payload.toString('utf8')
      return
    }
    const open = this.streams.get(stream)
    switch (type) {
      case FrameType.Request: this.onRequest(stream, readRequestHead(payload)); break
      case FrameType.RequestBody:
        if (open === undefined) return
        open.req.received += payload.length
        open.req.emit('data', payload)
        break
      case FrameType.RequestEnd:
        if (open === undefined) return
        open.req.ended = true
        open.req.emit('end')
        break
      case FrameType.Cancel: this.signal(stream, 'cancel'); break
      case FrameType.Pause: this.signal(stream, 'pause'); break
      case FrameType.Resume: this.signal(stream, 'resume'); break
    }
  }

  private signal (stream: number, what: string): void {
    const open = this.streams.get(stream)
    if (open === undefined) return
    open.res.signals.push(what)
    if (what === 'pause') open.res.paused = true
    if (what === 'resume') open.res.paused = false
    if (what === 'cancel') {
      open.res.cancelled = true
      this.streams.delete(stream)
      this.instance.release()
    }
    open.req.emit(what)
  }

  private onRequest (stream: number, head: RequestHead): void {
    this.opened.push(stream)
    const headers: Record<string, string> = {}
    for (let i = 0; i < head.headers.length; i += 2) {
      const name = head.headers[i].toLowerCase()
      headers[name] = headers[name] === undefined ? head.headers[i + 1] : `${headers[name]}, ${head.headers[i + 1]}`
    }
    const req = Object.assign(new EventEmitter(), {
      head, method: head.method, url: head.url, headers, stream, connection: this, received: 0, ended: (head.flags & RequestFlags.HasBody) === 0,
      body: async (): Promise<Buffer> => await collect(req)
    }) as FakeRequest
    const writer = this.writer
    let done = false
    let headSent = false
    const implicitHead = (): void => { if (!headSent) res.writeHead(200) }
    const finish = (): void => {
      done = true
      this.streams.delete(stream)
      this.instance.release()
    }
    const res: FakeResponse = {
      paused: false,
      cancelled: false,
      signals: [],
      writeHead: (status, given = {}) => {
        headSent = true
        const list: string[] = []
        for (const [name, value] of Object.entries(given)) list.push(name, String(value))
        writer.response(stream, { status, headers: list })
      },
      write: (chunk) => {
        if (done || res.cancelled) return
        implicitHead()
        writer.body(FrameType.ResponseBody, stream, Buffer.from(chunk))
      },
      end: (chunk) => {
        if (done || res.cancelled) return
        implicitHead()
        if (chunk !== undefined) writer.body(FrameType.ResponseBody, stream, Buffer.from(chunk))
        writer.frame(FrameType.ResponseEnd, stream)
        finish()
      },
      abort: (reason) => {
        if (done) return
        writer.text(FrameType.Abort, stream, reason)
        finish()
      },
      refuse: () => {
        if (done) return
        writer.frame(FrameType.Refused, stream)
        finish()
      }
    }
    this.streams.set(stream, { req, res })
    this.instance.requests.push(req)
    this.instance.inflight++
    this.instance.maxInflight = Math.max(this.instance.maxInflight, this.instance.inflight)
    this.instance.handler(req, res, this.instance)
  }
}

async function collect (req: FakeRequest): Promise<Buffer> {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  if (!req.ended) await new Promise((resolve) => req.once('end', resolve))
  return Buffer.concat(chunks)
}

export class FakeInstance {
  readonly dir = mkdtempSync(join(tmpdir(), 'roost-fake-instance-'))
  readonly socketPath = join(this.dir, 'data.sock')
  readonly secret: string
  readonly connections: FakeConnection[] = []
  readonly requests: FakeRequest[] = []
  inflight = 0
  maxInflight = 0
  badHellos = 0
  private readonly server: Server

  constructor (public handler: FakeHandler, secret = 'ab'.repeat(32)) {
    this.secret = secret
    this.server = createServer((socket) => this.connections.push(new FakeConnection(socket, this)))
  }

  static async start (handler: FakeHandler, secret?: string): Promise<FakeInstance> {
    const instance = new FakeInstance(handler, secret)
    await new Promise<void>((resolve) => instance.server.listen(instance.socketPath, resolve))
    return instance
  }

  release (): void {
    this.inflight--
  }

  /** Stops accepting connections (new ones get ECONNREFUSED/ENOENT); open ones stay. */
  stopListening (): void {
    if (this.server.listening) this.server.close()
  }

  /** Closes every connection and the socket, as a dying process would. */
  async close (): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy()
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Answers every request with `text` (200). */
export const answer = (text: string): FakeHandler => (req, res) => {
  void req.body().then(() => res.end(text))
}
