import { createConnection, type Socket } from 'node:net'
import { FrameDecoder, FrameType, FrameWriter, IdTable, MAX_DATA_PAYLOAD_BYTES, WireError, readResponseHead, type FrameSink, type RequestHead, type ResponseHead } from '../wire/index.js'

/** Why a connection ended under a stream. */
export const enum Loss {
  /** Its request was never handed to the socket (or the socket never connected): it did not run. */
  Unsent,
  /** The connection closed after the request was written: the instance died. */
  Crashed,
  /** The instance broke the protocol; the connection was destroyed. */
  Violation
}

/** One request on a connection, as the connection sees it (implemented by Call). */
export interface Stream {
  onResponse (head: ResponseHead): void
  onResponseBody (chunk: Buffer): void
  onResponseEnd (): void
  onAbort (reason: string): void
  onRefused (): void
  onPeerPause (): void
  onPeerResume (): void
  /** The response head and the body chunks of one read go to the caller now, in one write. */
  flushResponse (): void
  /** The socket drained after `waitDrain`. */
  onWritable (): void
  onLost (loss: Loss, detail: string): void
}

/** What a connection tells the instance it belongs to. */
export interface ConnectionOwner {
  onGoAway (connection: InstanceConnection): void
  onClosed (connection: InstanceConnection, clean: boolean, detail: string): void
  onViolation (connection: InstanceConnection, reason: string): void
}

/** Bytes queued on the socket over which request bodies stop being read from callers. */
const CONGESTED_BYTES = 1024 * 1024
/** Stream ids stay below this; past it the connection is retired and a new one opened. */
const MAX_STREAM_ID = 0x7fffffff
/** Longest abort reason kept from an instance. */
const MAX_REASON_BYTES = 1024

/**
 * The gateway's one connection to an instance's data socket: Hello first,
 * then requests multiplexed as streams (docs/internal-protocol.md). Frames
 * written in one turn leave in one write (FrameWriter); everything the
 * instance sends is parsed by a bounded decoder, and a frame that breaks the
 * protocol destroys the connection and fails its streams as the instance's fault.
 */
export class InstanceConnection implements FrameSink {
  /** GoAway received, or retired by the gateway: no new stream; closed after the last one ends. */
  goingAway = false
  closed = false
  private readonly socket: Socket
  private readonly writer: FrameWriter
  private readonly decoder: FrameDecoder
  private readonly streams = new IdTable<Stream>()
  private nextStream = 1
  /** Every stream up to this id had its request handed to the socket. */
  private writtenStream = 0
  private connected = false
  private violation: string | null = null
  private error = ''
  private readonly dirty: Stream[] = []
  private drainWaiters: Stream[] = []

  constructor (socketPath: string, secret: string, private readonly owner: ConnectionOwner) {
    this.socket = createConnection(socketPath)
    this.writer = new FrameWriter(this)
    this.decoder = new FrameDecoder(this.onFrame, MAX_DATA_PAYLOAD_BYTES)
    this.socket.on('connect', this.onConnect)
    this.socket.on('data', this.onData)
    this.socket.on('drain', this.onDrain)
    this.socket.on('error', this.onError)
    this.socket.on('close', this.onClose)
    this.writer.text(FrameType.Hello, 0, secret)
  }

  /** Streams open now. */
  get openStreams (): number {
    return this.streams.size
  }

  /** A new stream may be opened. */
  get usable (): boolean {
    return !this.goingAway && !this.closed
  }

  /** Opens a stream with its request head; returns the stream's id. */
  open (stream: Stream, head: RequestHead): number {
    const id = this.nextStream++
    if (this.nextStream > MAX_STREAM_ID) this.goingAway = true
    this.streams.set(id, stream)
    this.writer.request(id, head)
    return id
  }

  body (id: number, chunk: Buffer): void {
    this.writer.body(FrameType.RequestBody, id, chunk)
  }

  end (id: number): void {
    this.writer.frame(FrameType.RequestEnd, id)
  }

  pause (id: number): void {
    this.writer.frame(FrameType.Pause, id)
  }

  resume (id: number): void {
    this.writer.frame(FrameType.Resume, id)
  }

  /** The gateway gives up on a stream (caller gone, deadline, body too large). */
  cancel (id: number): void {
    if (!this.streams.delete(id)) return
    if (!this.closed) this.writer.frame(FrameType.Cancel, id)
    this.closeIfIdle()
  }

  /** The stream's response ended (it was removed when its last frame arrived). */
  finished (): void {
    this.closeIfIdle()
  }

  /** Request bodies should stop being read until onWritable. */
  get congested (): boolean {
    return this.socket.writableLength > CONGESTED_BYTES
  }

  waitDrain (stream: Stream): void {
    this.drainWaiters.push(stream)
  }

  /** No new streams; closes once the open ones have ended. */
  retire (): void {
    this.goingAway = true
    this.closeIfIdle()
  }

  destroy (): void {
    this.socket.destroy()
  }

  // FrameSink: the writer's only view of the socket.
  write (data: Uint8Array): boolean {
    this.writtenStream = this.nextStream - 1
    return this.socket.write(data)
  }

  cork (): void {
    this.socket.cork()
  }

  uncork (): void {
    this.socket.uncork()
  }

  get writableLength (): number {
    return this.socket.writableLength
  }

  private closeIfIdle (): void {
    if (!this.goingAway || this.streams.size > 0 || this.closed) return
    this.writer.flush()
    this.socket.end()
  }

  private readonly onConnect = (): void => {
    this.connected = true
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.violation !== null) return
    const dirty = this.dirty
    try {
      this.decoder.push(chunk)
      for (let i = 0; i < dirty.length; i++) dirty[i].flushResponse()
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err))
    } finally {
      dirty.length = 0
    }
  }

  private readonly onFrame = (type: number, id: number, payload: Buffer): void => {
    if (id === 0) {
      if (type !== FrameType.GoAway) throw new WireError('ROOST_E_WIRE_MALFORMED', `frame type ${type} on stream 0`)
      this.goingAway = true
      this.owner.onGoAway(this)
      this.closeIfIdle()
      return
    }
    const stream = this.streams.get(id)
    if (stream === undefined) {
      // Frames of a stream the gateway cancelled may still be on their way.
      if (id < this.nextStream) return
      throw new WireError('ROOST_E_WIRE_MALFORMED', `a frame for stream ${id}, which the gateway never opened`)
    }
    switch (type) {
      case FrameType.Response:
        stream.onResponse(readResponseHead(payload))
        this.dirty.push(stream)
        return
      case FrameType.ResponseBody:
        stream.onResponseBody(payload)
        return
      case FrameType.ResponseEnd:
        this.streams.delete(id)
        stream.onResponseEnd()
        return
      case FrameType.Abort:
        this.streams.delete(id)
        stream.onAbort(payload.toString('utf8', 0, Math.min(payload.length, MAX_REASON_BYTES)))
        return
      case FrameType.Refused:
        this.streams.delete(id)
        stream.onRefused()
        return
      case FrameType.Pause:
        stream.onPeerPause()
        return
      case FrameType.Resume:
        stream.onPeerResume()
        return
      default:
        throw new WireError('ROOST_E_WIRE_MALFORMED', `frame type ${type} is not one an instance sends`)
    }
  }

  private readonly onDrain = (): void => {
    const waiters = this.drainWaiters
    if (waiters.length === 0) return
    this.drainWaiters = []
    for (const stream of waiters) stream.onWritable()
  }

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    this.error = err.code ?? err.message
  }

  private readonly onClose = (): void => {
    this.closed = true
    this.writer.close()
    const violation = this.violation
    const clean = violation === null && this.goingAway && this.streams.size === 0
    const detail = violation ?? (this.connected ? 'closed the connection' : `could not be connected to (${this.error})`)
    this.owner.onClosed(this, clean, detail)
    if (this.streams.size === 0) return
    const streams = this.streams.entries()
    this.streams.clear()
    for (const [id, stream] of streams) {
      const loss = violation !== null ? Loss.Violation : !this.connected || id > this.writtenStream ? Loss.Unsent : Loss.Crashed
      stream.onLost(loss, detail)
    }
  }

  private fail (reason: string): void {
    this.violation = reason
    this.owner.onViolation(this, reason)
    this.socket.destroy()
  }
}
