import { readU32 } from './big-endian.js'
import { FRAME_HEADER_BYTES } from './frame.js'
import { WireError } from './wire-error.js'

/** Receives each complete frame. `payload` may be a view into the socket's chunk: copy it to keep it past the call. */
export type FrameHandler = (type: number, stream: number, payload: Buffer) => void

/**
 * Splits a byte stream into frames. A frame within one chunk is handed over
 * as a view of that chunk (no copy); only a frame split across chunks is
 * assembled, into one buffer allocated once at its full, bounded size. A
 * length over `maxPayloadBytes` throws before anything of it is buffered.
 * Written by hand: node's own framing (child_process serialization) has no
 * size bound and no public API.
 */
export class FrameDecoder {
  private readonly head = Buffer.allocUnsafe(FRAME_HEADER_BYTES)
  private headFill = 0
  private frame: Buffer | null = null
  private frameFill = 0
  private frameType = 0
  private frameStream = 0
  private failed = false

  constructor (private readonly onFrame: FrameHandler, private readonly maxPayloadBytes: number) {}

  /** Bytes of a frame started but not complete: 0 between frames. */
  get pendingBytes (): number {
    return this.headFill + this.frameFill
  }

  /** Feeds bytes in; frames are delivered synchronously. Throws WireError on bad input, and on every call after. */
  push (chunk: Buffer): void {
    if (this.failed) throw new WireError('ROOST_E_WIRE_MALFORMED', 'the stream failed before')
    let offset = 0
    const end = chunk.length
    while (offset < end) {
      const frame = this.frame
      if (frame !== null) {
        const take = Math.min(frame.length - this.frameFill, end - offset)
        chunk.copy(frame, this.frameFill, offset, offset + take)
        this.frameFill += take
        offset += take
        if (this.frameFill === frame.length) {
          this.frame = null
          this.frameFill = 0
          this.onFrame(this.frameType, this.frameStream, frame)
        }
        continue
      }
      if (this.headFill > 0 || end - offset < FRAME_HEADER_BYTES) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headFill, end - offset)
        chunk.copy(this.head, this.headFill, offset, offset + take)
        this.headFill += take
        offset += take
        if (this.headFill < FRAME_HEADER_BYTES) return
        this.headFill = 0
        this.startFrame(this.head, 0)
        continue
      }
      const size = this.payloadSize(readU32(chunk, offset))
      const type = chunk[offset + 4]
      const stream = readU32(chunk, offset + 5)
      const start = offset + FRAME_HEADER_BYTES
      if (start + size <= end) {
        offset = start + size
        this.onFrame(type, stream, chunk.subarray(start, offset))
        continue
      }
      this.startFrame(chunk, offset)
      // startFrame copied nothing: the loop copies the rest of this chunk.
      offset = start
    }
  }

  /** Reads a frame header at `at` in `source`; an empty frame is delivered at once. */
  private startFrame (source: Buffer, at: number): void {
    const size = this.payloadSize(readU32(source, at))
    const type = source[at + 4]
    const stream = readU32(source, at + 5)
    if (size === 0) {
      this.onFrame(type, stream, EMPTY)
      return
    }
    this.frameType = type
    this.frameStream = stream
    this.frame = Buffer.allocUnsafe(size)
    this.frameFill = 0
  }

  private payloadSize (length: number): number {
    if (length < FRAME_HEADER_BYTES - 4) {
      this.failed = true
      throw new WireError('ROOST_E_WIRE_MALFORMED', `a frame declares a length of ${length}, shorter than its own header`)
    }
    const size = length - (FRAME_HEADER_BYTES - 4)
    if (size > this.maxPayloadBytes) {
      this.failed = true
      throw new WireError('ROOST_E_WIRE_FRAME_TOO_LARGE', `a frame of ${size} bytes is larger than the limit of ${this.maxPayloadBytes}`)
    }
    return size
  }
}

const EMPTY = Buffer.alloc(0)
