import { writeU32 } from './big-endian.js'
import { BODY_CHUNK_BYTES, FRAME_HEADER_BYTES, FrameType } from './frame.js'
import type { RequestHead, ResponseHead } from './heads.js'
import { requestHeadSize, responseHeadSize, writeRequestHead, writeResponseHead } from './heads.js'

/** The one thing a FrameWriter needs of a socket or pipe. */
export interface FrameSink {
  write (data: Uint8Array): boolean
  cork (): void
  uncork (): void
  readonly writableLength: number
}

// Payloads at least this large are handed to the socket as they are, not copied.
const COPY_LIMIT = 16 * 1024
const INITIAL_BUFFER_BYTES = 64 * 1024

/**
 * Coalesces frames: everything written in one turn of the event loop leaves
 * in one write (a writev when large payloads ride along uncopied), flushed
 * from setImmediate, so thirty responses finished together cost one syscall.
 * The buffer is reused while the socket takes writes synchronously.
 */
export class FrameWriter {
  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES)
  /** Bytes of `buffer` not yet handed to `parts` or the socket. */
  private start = 0
  private length = 0
  private parts: Uint8Array[] = []
  /** Bytes in `parts`, kept as they are added: back-pressure checks ask for it per chunk. */
  private partsBytes = 0
  private scheduled = false
  private closed = false

  constructor (private readonly sink: FrameSink) {}

  /** Bytes queued here or in the socket, not yet sent: for back-pressure. */
  get queuedBytes (): number {
    return this.length - this.start + this.partsBytes + this.sink.writableLength
  }

  frame (type: FrameType, stream: number, payload?: Uint8Array): void {
    const size = payload === undefined ? 0 : payload.length
    if (payload !== undefined && size >= COPY_LIMIT) {
      this.header(type, stream, size)
      this.cut()
      this.parts.push(payload)
      this.partsBytes += payload.length
    } else {
      const at = this.header(type, stream, size)
      if (payload !== undefined) this.buffer.set(payload, at)
      this.length += size
    }
    this.schedule()
  }

  /** A body chunk of any size, cut into frames of at most BODY_CHUNK_BYTES. */
  body (type: FrameType.RequestBody | FrameType.ResponseBody, stream: number, chunk: Uint8Array): void {
    if (chunk.length <= BODY_CHUNK_BYTES) {
      this.frame(type, stream, chunk)
      return
    }
    for (let at = 0; at < chunk.length; at += BODY_CHUNK_BYTES) this.frame(type, stream, chunk.subarray(at, at + BODY_CHUNK_BYTES))
  }

  /** A frame whose payload is UTF-8 text (a control message, an abort reason). */
  text (type: FrameType, stream: number, text: string): void {
    this.frame(type, stream, Buffer.from(text, 'utf8'))
  }

  /** Throws RangeError for a head no frame can carry (a field or a count over its width); nothing of it is queued then. */
  request (stream: number, head: RequestHead): void {
    const size = requestHeadSize(head)
    // A head is always written into the buffer, however large: room for all of it first.
    this.reserve(FRAME_HEADER_BYTES + size)
    const at = this.header(FrameType.Request, stream, size)
    try {
      writeRequestHead(this.buffer, at, head)
    } catch (err) {
      this.length = at - FRAME_HEADER_BYTES
      throw err
    }
    this.length += size
    this.schedule()
  }

  /** Throws RangeError for a head no frame can carry; nothing of it is queued then. */
  response (stream: number, head: ResponseHead): void {
    const size = responseHeadSize(head)
    this.reserve(FRAME_HEADER_BYTES + size)
    const at = this.header(FrameType.Response, stream, size)
    try {
      writeResponseHead(this.buffer, at, head)
    } catch (err) {
      // The half-written frame is dropped: the peer must never see it.
      this.length = at - FRAME_HEADER_BYTES
      throw err
    }
    this.length += size
    this.schedule()
  }

  /** Sends what is queued now instead of at the end of the turn. */
  flush = (): void => {
    this.scheduled = false
    if (this.closed) return
    this.cut()
    const parts = this.parts
    if (parts.length === 0) return
    this.parts = []
    this.partsBytes = 0
    if (parts.length === 1) {
      this.sink.write(parts[0])
    } else {
      this.sink.cork()
      for (const part of parts) this.sink.write(part)
      this.sink.uncork()
    }
    // The socket holds on to what it could not write at once: the buffer
    // may be reused only if everything left synchronously.
    if (this.sink.writableLength === 0) {
      this.start = 0
      this.length = 0
    } else {
      this.buffer = Buffer.allocUnsafe(this.buffer.length)
      this.start = 0
      this.length = 0
    }
  }

  /** Drops whatever is queued; later frames are ignored. */
  close (): void {
    this.closed = true
    this.parts = []
    this.partsBytes = 0
  }

  /** Writes a frame header for a payload of `size` bytes; returns where the payload goes. */
  private header (type: FrameType, stream: number, size: number): number {
    this.reserve(FRAME_HEADER_BYTES + (size >= COPY_LIMIT ? 0 : size))
    const buffer = this.buffer
    let at = this.length
    writeU32(buffer, at, size + FRAME_HEADER_BYTES - 4)
    buffer[at + 4] = type
    writeU32(buffer, at + 5, stream)
    at += FRAME_HEADER_BYTES
    this.length = at
    return at
  }

  /** Moves the buffered bytes into `parts`, so an uncopied payload can follow them in order. */
  private cut (): void {
    if (this.length === this.start) return
    this.parts.push(this.buffer.subarray(this.start, this.length))
    this.partsBytes += this.length - this.start
    this.start = this.length
  }

  private reserve (bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return
    // What is buffered is already referenced by `parts` or must be kept: start a new buffer.
    this.cut()
    this.buffer = Buffer.allocUnsafe(Math.max(INITIAL_BUFFER_BYTES, bytes))
    this.start = 0
    this.length = 0
  }

  private schedule (): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(this.flush)
  }
}
