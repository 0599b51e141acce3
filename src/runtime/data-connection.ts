import type { Socket } from 'node:net'
import { timingSafeEqual } from 'node:crypto'
import { FrameDecoder, FrameType, FrameWriter, IdTable, MAX_DATA_PAYLOAD_BYTES, MAX_ID, readRequestHead, RequestFlags, WireError } from '../wire/index.js'
import { DataStream, type StreamOwner } from './data-stream.js'
import type { Invoker } from './invoke.js'
import { LazyRequest } from './lazy-request.js'

const HELLO_TIMEOUT_MS = 1000

/**
 * One data connection from the gateway: Hello with the secret first, then
 * multiplexed requests (docs/internal-protocol.md). The gateway is the only
 * peer, so anything malformed ends the connection at once.
 */
export class DataConnection implements StreamOwner {
  readonly writer: FrameWriter
  private readonly decoder: FrameDecoder
  private readonly streams = new IdTable<DataStream>()
  private authenticated = false
  private destroyed = false
  private draining = false
  private readonly helloTimer: NodeJS.Timeout
  private drainWaiters: Array<() => void> = []

  constructor (
    private readonly socket: Socket,
    private readonly secret: Buffer,
    private readonly invoker: Invoker,
    onClose: (connection: DataConnection) => void
  ) {
    this.writer = new FrameWriter(socket)
    this.decoder = new FrameDecoder(this.onFrame, MAX_DATA_PAYLOAD_BYTES)
    this.helloTimer = setTimeout(() => this.destroy(), HELLO_TIMEOUT_MS)
    socket.on('data', this.onData)
    socket.on('drain', this.onDrain)
    socket.on('error', () => this.destroy())
    socket.on('close', () => {
      this.destroyed = true
      clearTimeout(this.helloTimer)
      this.writer.close()
      for (const stream of this.streams.list()) this.cancel(stream, 'the gateway closed the connection')
      this.onDrain()
      onClose(this)
    })
  }

  /** The instance drains: the gateway sends nothing new here and closes the connection when its streams are done. */
  goAway (): void {
    this.draining = true
    // A connection still without its Hello gets GoAway right after it.
    if (this.destroyed || !this.authenticated) return
    this.writer.frame(FrameType.GoAway, 0)
  }

  destroy (): void {
    if (this.destroyed) return
    this.destroyed = true
    this.socket.destroy()
  }

  writable (): Promise<void> {
    this.writer.flush()
    if (this.destroyed || !this.socket.writableNeedDrain) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  finished (stream: DataStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id)
  }

  private readonly onDrain = (): void => {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const waiter of waiters) waiter()
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.decoder.push(chunk)
    } catch (err) {
      if (!(err instanceof WireError)) throw err
      this.destroy()
    }
  }

  private readonly onFrame = (type: number, id: number, payload: Buffer): void => {
    if (this.destroyed) return
    if (!this.authenticated) {
      this.hello(type, id, payload)
      return
    }
    switch (type) {
      case FrameType.Request: this.request(id, payload); return
      case FrameType.RequestBody: this.requestBody(id, payload); return
      case FrameType.RequestEnd: this.requestEnd(id, payload); return
      case FrameType.Cancel: this.cancel(this.control(id, payload), 'the gateway cancelled the request'); return
      case FrameType.Pause: this.control(id, payload)?.setPaused(true); return
      case FrameType.Resume: this.control(id, payload)?.setPaused(false); return
      default: this.destroy()
    }
  }

  private hello (type: number, id: number, payload: Buffer): void {
    if (type !== FrameType.Hello || id !== 0 || payload.length !== this.secret.length || !timingSafeEqual(payload, this.secret)) {
      this.destroy()
      return
    }
    this.authenticated = true
    clearTimeout(this.helloTimer)
    if (this.draining) this.writer.frame(FrameType.GoAway, 0)
  }

  private request (id: number, payload: Buffer): void {
    // Stream ids are 31-bit (docs/internal-protocol.md); a reused or out-of-range one is the peer's fault.
    if (id === 0 || id > MAX_ID || this.streams.has(id)) {
      this.destroy()
      return
    }
    let head
    try {
      head = readRequestHead(payload)
    } catch {
      this.destroy()
      return
    }
    if (!this.invoker.loaded) {
      // Nothing ran: the gateway sends it to another instance (and drops its body).
      this.writer.frame(FrameType.Refused, id)
      return
    }
    const stream = new DataStream(id, head.requestId, this, (head.flags & RequestFlags.HasBody) !== 0)
    this.streams.set(id, stream)
    const request = new LazyRequest(head.method, head.url, head.headers, stream.body)
    stream.request = request
    if ((head.flags & RequestFlags.Event) !== 0) this.invoker.serveEvent(request, head, stream)
    else this.invoker.serve(request, head, stream)
  }

  private requestBody (id: number, payload: Buffer): void {
    const stream = this.streams.get(id)
    if (stream === undefined) return
    if (stream.bodyEnded) {
      this.destroy()
      return
    }
    // The payload is a view of the socket's chunk: the body keeps its own copy.
    stream.body?.push(Buffer.from(payload))
  }

  private requestEnd (id: number, payload: Buffer): void {
    if (payload.length !== 0) {
      this.destroy()
      return
    }
    const stream = this.streams.get(id)
    if (stream === undefined || stream.bodyEnded) return
    stream.bodyEnded = true
    stream.body?.end()
  }

  /** What the cancel sets off (abort listeners, the stream's cancel) belongs to the request. */
  private cancel (stream: DataStream | undefined, reason: string): void {
    if (stream === undefined || stream.closed) return
    this.invoker.within(stream.requestId, () => stream.cancel(reason))
  }

  /** The stream a Cancel, Pause or Resume is for: unknown streams (already answered) are ignored. */
  private control (id: number, payload: Buffer): DataStream | undefined {
    if (payload.length !== 0 || id === 0) {
      this.destroy()
      return undefined
    }
    return this.streams.get(id)
  }
}
