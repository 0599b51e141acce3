import { FrameType, type FrameWriter } from '../wire/index.js'
import type { LazyRequest } from './lazy-request.js'
import { RequestBody, type BodyFlow } from './request-body.js'
import type { ResponseSink } from './response-sink.js'

// Past this many bytes queued toward the gateway, a streaming body waits for the socket.
const HIGH_WATER_BYTES = 1024 * 1024

/** What a stream needs of its connection. */
export interface StreamOwner {
  readonly writer: FrameWriter
  /** Resolves once the socket took what is queued (at once if it did). */
  writable (): Promise<void>
  /** The stream sent its last frame or was cancelled. */
  finished (stream: DataStream): void
}

/**
 * One request of a data connection: the answer's frames (a ResponseSink) and
 * the request body's flow control (Pause/Resume toward the gateway).
 */
export class DataStream implements ResponseSink, BodyFlow {
  closed = false
  /** The request body ended (RequestEnd came) or there is none. */
  bodyEnded: boolean
  request: LazyRequest | null = null
  private paused = false
  private waiter: (() => void) | null = null
  private closeCallback: (() => void) | null = null

  readonly body: RequestBody | null

  constructor (readonly id: number, readonly requestId: string, private readonly owner: StreamOwner, hasBody: boolean) {
    this.body = hasBody ? new RequestBody(this) : null
    this.bodyEnded = !hasBody
  }

  whole (status: number, headers: string[], body: string | Uint8Array | null, omitBody: boolean): void {
    if (this.closed) return
    const writer = this.owner.writer
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
    writer.response(this.id, { status, headers: headers.concat('content-length', String(bytes === null ? 0 : bytes.length)) })
    if (bytes !== null && bytes.length > 0 && !omitBody) writer.body(FrameType.ResponseBody, this.id, bytes)
    writer.frame(FrameType.ResponseEnd, this.id)
    this.finish()
  }

  head (status: number, headers: string[]): void {
    if (this.closed) return
    this.owner.writer.response(this.id, { status, headers })
    // The head leaves now, not with the first chunk: time to first byte is the handler's.
    this.owner.writer.flush()
  }

  chunk (data: Uint8Array): boolean {
    if (this.closed) return false
    const writer = this.owner.writer
    writer.body(FrameType.ResponseBody, this.id, data)
    writer.flush()
    return !this.paused && writer.queuedBytes < HIGH_WATER_BYTES
  }

  async ready (): Promise<void> {
    while (!this.closed) {
      if (this.paused) {
        await new Promise<void>((resolve) => { this.waiter = resolve })
        continue
      }
      if (this.owner.writer.queuedBytes < HIGH_WATER_BYTES) return
      await this.owner.writable()
    }
  }

  end (): void {
    if (this.closed) return
    this.owner.writer.frame(FrameType.ResponseEnd, this.id)
    this.finish()
  }

  abort (reason: string): void {
    if (this.closed) return
    this.owner.writer.text(FrameType.Abort, this.id, reason)
    this.finish()
  }

  // A Cancel frame or the connection's close tells this stream; nothing to watch.
  pending (): void {}

  onClose (callback: () => void): void {
    this.closeCallback = callback
  }

  /** Gateway → runtime: Pause or Resume of the response body. */
  setPaused (paused: boolean): void {
    this.paused = paused
    if (!paused) this.wake()
  }

  /** Cancel, or the connection closed: stop, send nothing more. */
  cancel (reason: string): void {
    if (this.closed) return
    const error = new Error(reason)
    this.request?.abort(error)
    this.body?.fail(error)
    this.finish()
    const callback = this.closeCallback
    this.closeCallback = null
    callback?.()
  }

  // BodyFlow: the handler does not read its body fast enough.
  pause (): void {
    if (!this.closed && !this.bodyEnded) this.owner.writer.frame(FrameType.Pause, this.id)
  }

  resume (): void {
    if (!this.closed && !this.bodyEnded) this.owner.writer.frame(FrameType.Resume, this.id)
  }

  private finish (): void {
    this.closed = true
    // Answered before its body was read: what is left of the body goes nowhere.
    if (!this.bodyEnded) this.body?.discard()
    this.wake()
    this.owner.finished(this)
  }

  private wake (): void {
    const waiter = this.waiter
    this.waiter = null
    waiter?.()
  }
}
