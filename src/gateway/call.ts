import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import type { UpstreamInstance } from './upstream-instance.js'
import type { VersionState } from './version-state.js'

export const enum CallState { Waiting, Sent, Done }

/** What a call reports back to the gateway that owns it. */
export interface CallOwner {
  onCallFinished (call: Call): void
  onCallFailed (call: Call, err: Error & { code?: string }): void
}

// Response headers that describe the instance's connection, not the response.
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer'])
// Only names of these lengths can be hop-by-hop: the others skip the lower-casing.
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP_RESPONSE].map((name) => name.length))

/**
 * One request through the gateway, from arrival to its last byte. It is also
 * the undici dispatch handler, so proxying a request allocates this object and
 * the header arrays, nothing else.
 */
export class Call implements Dispatcher.DispatchHandler {
  state = CallState.Waiting
  instance: UpstreamInstance | null = null
  attempts = 0
  /** The status the caller was sent (the instance's, or the gateway's own); 0 until then. */
  status = 0
  /** It arrived while its version had no ready instance (a cold start). */
  cold = false
  prev: Call | null = null
  next: Call | null = null
  private abortUpstream: ((err?: Error) => void) | null = null
  private resumeUpstream: (() => void) | null = null
  /** The first body chunk, held until the parser's turn ends (see onData). */
  private held: Buffer | null = null
  private streaming = false

  constructor (
    private readonly owner: CallOwner,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    public version: VersionState,
    readonly options: Dispatcher.DispatchOptions,
    readonly requestId: string,
    readonly deadline: number,
    /** performance.now() at arrival, for the latency histograms. */
    readonly arrivedAt: number
  ) {}

  isWaiting (): boolean {
    return this.state === CallState.Waiting
  }

  send (instance: UpstreamInstance, now: number): void {
    this.state = CallState.Sent
    this.instance = instance
    this.attempts++
    instance.acquire(now)
    this.version.stats.inFlight++
    instance.pool.dispatch(this.options, this)
  }

  /** Stops the upstream request, e.g. on timeout; its error callback is then ignored. */
  abort (): void {
    this.state = CallState.Done
    if (this.abortUpstream !== null) this.abortUpstream(new Error('aborted by the gateway'))
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abortUpstream = abort
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.state !== CallState.Sent) return false
    this.resumeUpstream = resume
    this.status = statusCode
    const headers: string[] = []
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i].toString('latin1')
      if (HOP_BY_HOP_LENGTHS.has(name.length) && HOP_BY_HOP_RESPONSE.has(name.toLowerCase())) continue
      headers.push(name, rawHeaders[i + 1].toString('latin1'))
    }
    headers.push('x-request-id', this.requestId)
    this.res.writeHead(statusCode, headers)
    return true
  }

  onData (chunk: Buffer): boolean {
    if (this.state !== CallState.Sent) return false
    // Most responses are one chunk that arrives with its end in the same parse:
    // holding it lets onComplete send headers and body in one end(chunk) write.
    // A streamed response gets it on the next tick, so nothing waits for more data.
    if (!this.streaming) {
      this.streaming = true
      this.held = chunk
      process.nextTick(flushHeld, this)
      return true
    }
    return this.write(chunk)
  }

  /** Sends the held first chunk if the response did not end with it. */
  flushHeld (): void {
    const held = this.held
    if (held === null || this.state !== CallState.Sent) return
    this.held = null
    this.write(held)
  }

  private write (chunk: Buffer): boolean {
    if (this.held !== null) this.flushHeld()
    if (this.res.write(chunk)) return true
    // Backpressure: let the caller's socket drain before reading more from the instance.
    const resume = this.resumeUpstream
    if (resume !== null) this.res.once('drain', () => resume())
    return false
  }

  onComplete (): void {
    if (this.state !== CallState.Sent) return
    const held = this.held
    this.held = null
    if (held === null) this.res.end()
    else this.res.end(held)
    this.owner.onCallFinished(this)
  }

  onError (err: Error): void {
    if (this.state !== CallState.Sent) return
    this.owner.onCallFailed(this, err)
  }
}

function flushHeld (call: Call): void {
  call.flushHeld()
}
