/** How a request body asks its producer to stop and go on (Pause/Resume frames, or a socket's pause/resume). */
export interface BodyFlow {
  pause (): void
  resume (): void
}

// A handler that does not read its body holds at most this much of it here.
const HIGH_WATER_BYTES = 1024 * 1024
const LOW_WATER_BYTES = 256 * 1024

const EMPTY = Buffer.alloc(0)

/** A body read with a bound went past it. */
export class BodyTooLargeError extends Error {
  readonly code = 'ROOST_E_PAYLOAD_TOO_LARGE'
  readonly status = 413
}

/**
 * A request body as it arrives: chunks queue here until the handler reads
 * them, either whole (text/json/arrayBuffer, no web stream made) or as a
 * stream. While nobody reads and the queue is over its high-water mark, the
 * producer is paused.
 */
export class RequestBody {
  private chunks: Buffer[] = []
  private queued = 0
  private ended = false
  private error: Error | null = null
  private paused = false
  /** Nobody will read it: what still arrives is dropped. */
  private discarded = false
  /** A reader wants everything: never pause it. */
  private collecting = false
  private wake: (() => void) | null = null

  constructor (private readonly flow: BodyFlow | null) {}

  /** Producer: one chunk, kept as it is (copy a view of a reused buffer before). */
  push (chunk: Buffer): void {
    if (this.ended || this.error !== null || this.discarded) return
    this.chunks.push(chunk)
    this.queued += chunk.length
    if (!this.paused && !this.collecting && this.queued > HIGH_WATER_BYTES && this.flow !== null) {
      this.paused = true
      this.flow.pause()
    }
    this.notify()
  }

  /** Producer: the body is complete. */
  end (): void {
    this.ended = true
    this.notify()
  }

  /** Producer: the body will not complete (the caller went away). */
  fail (error: Error): void {
    if (this.ended) return
    this.error = error
    this.chunks = []
    this.queued = 0
    this.notify()
  }

  /**
   * The whole body in one buffer (one concat only if it came in several
   * chunks). Past `maxBytes` it throws a BodyTooLargeError as soon as the
   * excess arrives, holding no more than that.
   */
  async readAll (maxBytes = Infinity): Promise<Buffer> {
    this.collecting = true
    this.unpause()
    while (!this.ended) {
      if (this.error !== null) throw this.error
      if (this.queued > maxBytes) break
      await this.arrival()
    }
    if (this.error !== null) throw this.error
    if (this.queued > maxBytes) {
      this.discard()
      throw new BodyTooLargeError(`the body is over ${maxBytes} bytes`)
    }
    const chunks = this.chunks
    this.chunks = []
    this.queued = 0
    if (chunks.length === 0) return EMPTY
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
  }

  /** The next chunk, or null at the end. */
  async read (): Promise<Buffer | null> {
    while (this.chunks.length === 0) {
      if (this.error !== null) throw this.error
      if (this.ended) return null
      this.unpause()
      await this.arrival()
    }
    const chunk = this.chunks.shift() as Buffer
    this.queued -= chunk.length
    if (this.queued < LOW_WATER_BYTES) this.unpause()
    return chunk
  }

  /** The body as a web stream that pulls chunk by chunk. */
  stream (): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.read()
        if (chunk === null) controller.close()
        else controller.enqueue(chunk)
      },
      cancel: () => { this.discard() }
    }, { highWaterMark: 0 })
  }

  /** Nobody will read what is left: drop it, and let the producer go on (into nothing). */
  discard (): void {
    this.discarded = true
    this.chunks = []
    this.queued = 0
    this.collecting = true
    this.unpause()
  }

  private unpause (): void {
    if (!this.paused) return
    this.paused = false
    this.flow?.resume()
  }

  private arrival (): Promise<void> {
    return new Promise((resolve) => { this.wake = resolve })
  }

  private notify (): void {
    const wake = this.wake
    if (wake === null) return
    this.wake = null
    wake()
  }
}
