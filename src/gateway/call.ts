import { WireError, type ResponseHead } from '../wire/index.js'
import type { BodyReceiver, ProxyRequest, ProxyResponse } from './call-messages.js'
import { Loss, type InstanceConnection, type Stream } from './instance-connection.js'
import { rewriteLocation } from './location.js'
import type { CallerAuthenticator } from '../governance/index.js'
import type { Admission, FunctionGovernance } from './function-governance.js'
import type { UpstreamInstance } from './upstream-instance.js'
import type { VersionState } from './version-state.js'

export const enum CallState { Waiting, Sent, Done }

/** What the gateway does with the event headers (x-roost-event, x-roost-event-token, x-roost-call-id) of a request. */
export const enum EventHeaders {
  /** It has none. */
  None,
  /** It has some but is no event delivery: all are dropped. */
  Strip,
  /** An event delivery: x-roost-event and x-roost-call-id go on to the function, the token never. */
  Deliver
}

/** What a call reports back to the gateway that owns it. */
export interface CallOwner {
  readonly bodyLimit: number
  /** Writes the call's request head on `connection`; returns the stream id. */
  openStream (call: Call, connection: InstanceConnection): number
  /** The instance's response went out whole. */
  onCallFinished (call: Call): void
  /** The response failed after its head went out: the caller's response is cut off. */
  onCallCutOff (call: Call): void
  /** The call failed before anything went to the caller: the gateway answers. */
  onCallFailed (call: Call, status: number, code: string, detail: string): void
  /** The request never ran on the instance: send it to another. */
  onCallRetry (call: Call, refused: boolean): void
  onCallerGone (call: Call): void
  onBodyTooLarge (call: Call): void
  /** A body read whole before dispatch (`buffering`) is complete: the call may go to an instance now. */
  onBodyBuffered (call: Call): void
  /**
   * The instance answered 502/503 or died after it began the request: true
   * when the gateway takes it back to try again (an idempotent request within
   * its retry policy and budget); the call's stream is then given up.
   */
  retryStarted (call: Call): boolean
}

// Response headers that describe the instance's connection, not the response,
// and the two the gateway looks at; only names of these lengths are lower-cased.
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer'])
const INSPECTED_LENGTHS = new Set([...HOP_BY_HOP_RESPONSE, 'content-length', 'location'].map((name) => name.length))
/** Body bytes kept for a retry until the instance answers; past it a request that was sent cannot be retried. */
const KEEP_LIMIT_BYTES = 1024 * 1024
/** Bytes the caller's socket may hold after the gateway sent Pause before the instance counts as flooding. */
const FLOOD_LIMIT_BYTES = 16 * 1024 * 1024

/** The `x-roost-attempts` values of the common cases, made once. */
const ATTEMPTS = ['0', '1', '2', '3', '4', '5']

const enum Paused { Peer = 1, Congested = 2, Waiting = 4 }

/**
 * One request through the gateway, from arrival to its last byte, and the
 * stream that carries it to an instance. Proxying allocates this object, the
 * response's header array, and nothing else of the gateway's.
 */
export class Call implements Stream, BodyReceiver {
  state = CallState.Waiting
  instance: UpstreamInstance | null = null
  connection: InstanceConnection | null = null
  stream = 0
  attempts = 0
  /** The status the caller was sent (the instance's, or the gateway's own); 0 until then. */
  status = 0
  /** It arrived while its version had no ready instance (a cold start). */
  cold = false
  prev: Call | null = null
  next: Call | null = null
  /** Body bytes received from the caller. */
  received = 0
  /** The caller's body ended (true at once for a request without one). */
  bodyEnded: boolean
  /** Nothing of it ran on an instance that could not run it again: safe to send elsewhere. */
  retryable = true
  /** A small body is read whole before the call takes an instance's slot (see the gateway's route). */
  buffering = false
  /** Its function's caller check needs the whole body (signed requests): it runs once the body is in. */
  authPending = false
  /** Its function's governance (null: none), what it lent the call (concurrency slots, breaker permits, handed back once answered), and the caller check a signed request waits for. */
  governance: FunctionGovernance | null = null
  admission: Admission | null = null
  auth: CallerAuthenticator | null = null
  /** Who called, as authentication found it; and the lane it runs in. */
  caller = ''
  lane: string | undefined = undefined
  /** It may run twice without harm: an idempotent method, or an Idempotency-Key. */
  idempotent = false
  events = EventHeaders.None
  /** performance.now() when it was last sent to an instance: its own time excludes the wait for one. */
  sentAt = 0
  /** Body chunks kept until the instance answers, for a retry; null once it answered or past KEEP_LIMIT_BYTES. */
  private kept: Buffer[] | null
  private keptBytes = 0
  private paused = 0
  private headers: string[] | null = null
  private hasLength = false
  private headWritten = false
  private ended = false
  private first: Buffer | null = null
  private more: Buffer[] | null = null
  private pendingBytes = 0
  private responsePaused = false
  private onDrained: (() => void) | null = null

  constructor (
    private readonly owner: CallOwner,
    readonly req: ProxyRequest,
    readonly res: ProxyResponse,
    public version: VersionState<Call>,
    readonly requestId: string,
    readonly deadline: number,
    /** performance.now() at arrival, for the latency histograms. */
    readonly arrivedAt: number,
    /** Path and query as the function sees them. */
    readonly path: string,
    /** The part of the path the route consumed. */
    readonly prefix: string,
    readonly hasBody: boolean
  ) {
    this.bodyEnded = !hasBody
    this.kept = hasBody ? [] : null
  }

  isWaiting (): boolean {
    return this.state === CallState.Waiting
  }

  /** The gateway let the body stall while the call waited; a trickle is not the caller's fault then. */
  get stalledByGateway (): boolean {
    return (this.paused & Paused.Waiting) !== 0
  }

  send (instance: UpstreamInstance, now: number): void {
    this.state = CallState.Sent
    this.instance = instance
    this.attempts++
    this.sentAt = now
    instance.acquire(now)
    this.version.stats.inFlight++
    const connection = instance.connect()
    this.connection = connection
    const stream = this.stream = this.owner.openStream(this, connection)
    if (!this.hasBody) return
    const kept = this.kept
    if (kept !== null) for (let i = 0; i < kept.length; i++) connection.body(stream, kept[i])
    if (this.bodyEnded) connection.end(stream)
    if (this.keptBytes > KEEP_LIMIT_BYTES) this.dropKept()
    this.resumeBody(Paused.Waiting)
  }

  /** The body was read whole before the call began (a CloudEvent the gateway rewrote): it is kept, and it ended. */
  preload (body: Buffer): void {
    this.kept = [body]
    this.keptBytes = body.length
    this.received = body.length
    this.bodyEnded = true
  }

  /** Back to waiting, for another instance: nothing of the response arrived. */
  requeue (): void {
    this.state = CallState.Waiting
    this.connection = null
    this.stream = 0
    this.resumeBody(Paused.Peer | Paused.Congested)
  }

  /** Whether the whole request could be sent again: its body was kept (or it has none). */
  get canResend (): boolean {
    return !this.hasBody || this.kept !== null
  }

  /** The body read so far, whole (for a signed request, read before dispatch). */
  bodyBytes (): Buffer {
    const kept = this.kept
    if (kept === null || kept.length === 0) return Buffer.alloc(0)
    return kept.length === 1 ? kept[0] : Buffer.concat(kept)
  }

  /** Stops the call's stream (caller gone, deadline, body too large); later frames are ignored. */
  cancel (): void {
    if (this.state === CallState.Sent && this.connection !== null) this.connection.cancel(this.stream)
    this.state = CallState.Done
  }

  // BodyReceiver: the caller's side.

  onBodyChunk (chunk: Buffer): void {
    if (this.state === CallState.Done) return
    this.received += chunk.length
    if (this.received > this.owner.bodyLimit) {
      this.owner.onBodyTooLarge(this)
      return
    }
    const kept = this.kept
    if (kept !== null) {
      kept.push(chunk)
      this.keptBytes += chunk.length
      if (this.keptBytes > KEEP_LIMIT_BYTES) {
        // Waiting, the rest of the body stays in the caller's socket; sent, it is no longer kept.
        if (this.state === CallState.Waiting) this.pauseBody(Paused.Waiting)
        else this.dropKept()
      }
    }
    if (this.state !== CallState.Sent) return
    const connection = this.connection as InstanceConnection
    connection.body(this.stream, chunk)
    if (connection.congested) {
      this.pauseBody(Paused.Congested)
      connection.waitDrain(this)
    }
  }

  onBodyEnd (): void {
    this.bodyEnded = true
    if (this.buffering) {
      this.buffering = false
      if (this.state === CallState.Waiting) this.owner.onBodyBuffered(this)
      return
    }
    if (this.state === CallState.Sent) this.connection?.end(this.stream)
  }

  onCallerGone (): void {
    if (this.state === CallState.Done) return
    this.owner.onCallerGone(this)
  }

  // Stream: the instance's side.

  onResponse (head: ResponseHead): void {
    if (this.headers !== null) throw new WireError('ROOST_E_WIRE_MALFORMED', 'a second response head on one stream')
    const status = head.status
    if (status < 200 || status > 599) throw new WireError('ROOST_E_WIRE_MALFORMED', `a response status of ${status}`)
    // A 502/503 of the handler is not passed on when the gateway tries the request again.
    if ((status === 502 || status === 503) && this.idempotent && this.owner.retryStarted(this)) return
    this.status = status
    // The instance started the request: it can no longer go elsewhere.
    this.retryable = false
    this.kept = null
    this.headers = this.responseHeaders(head.headers)
  }

  onResponseBody (chunk: Buffer): void {
    if (this.headers === null) throw new WireError('ROOST_E_WIRE_MALFORMED', 'a response body before its head')
    if (this.headWritten) {
      this.writeBody(chunk)
      return
    }
    // The head is held until the end of this read: a body that ends in it leaves in one write.
    // The chunk is a view of the socket's read buffer, which node never reuses: no copy.
    this.pendingBytes += chunk.length
    if (this.first === null) this.first = chunk
    else if (this.more === null) this.more = [chunk]
    else this.more.push(chunk)
  }

  onResponseEnd (): void {
    if (this.headers === null) throw new WireError('ROOST_E_WIRE_MALFORMED', 'a response end before its head')
    if (!this.headWritten) {
      this.ended = true
      return
    }
    this.res.end()
    this.owner.onCallFinished(this)
  }

  flushResponse (): void {
    const headers = this.headers
    if (this.state !== CallState.Sent || this.headWritten || headers === null) return
    const res = this.res
    // writeHead throws on a header node refuses: the instance's fault, answered 502 while nothing went out.
    if (this.ended) {
      if (!this.hasLength && hasBody(this.status) && this.req.method !== 'HEAD') headers.push('content-length', String(this.pendingBytes))
      try {
        res.writeHead(this.status, headers)
      } catch (err) {
        // The stream has left its connection already (its end came in this read): it fails here, then the connection does.
        this.owner.onCallFailed(this, 502, 'ROOST_E_INSTANCE_PROTOCOL', `instance ${this.instance?.id ?? '?'} broke the data protocol (${err instanceof Error ? err.message : String(err)}); it is being replaced`)
        throw err
      }
      this.headWritten = true
      const first = this.first
      if (first === null) res.end()
      else res.end(this.more === null ? first : Buffer.concat([first, ...this.more]))
      this.first = this.more = null
      this.owner.onCallFinished(this)
      return
    }
    res.writeHead(this.status, headers)
    this.headWritten = true
    const first = this.first
    if (first === null) return
    this.first = null
    this.writeBody(first)
    const more = this.more
    if (more === null) return
    this.more = null
    for (let i = 0; i < more.length; i++) this.writeBody(more[i])
  }

  onAbort (reason: string): void {
    if (this.headWritten) this.owner.onCallCutOff(this)
    else this.owner.onCallFailed(this, 500, 'ROOST_E_HANDLER', `the function failed before answering: ${reason}`)
  }

  onRefused (): void {
    if (this.headers !== null) throw new WireError('ROOST_E_WIRE_MALFORMED', 'Refused after a response head')
    this.owner.onCallRetry(this, true)
  }

  onPeerPause (): void {
    if (!this.bodyEnded) this.pauseBody(Paused.Peer)
  }

  onPeerResume (): void {
    this.resumeBody(Paused.Peer)
  }

  onWritable (): void {
    this.resumeBody(Paused.Congested)
  }

  onLost (loss: Loss, detail: string): void {
    if (this.state !== CallState.Sent) return
    const id = this.instance?.id ?? '?'
    if (loss === Loss.Unsent) this.owner.onCallRetry(this, false)
    else if (this.headWritten) this.owner.onCallCutOff(this)
    else if (loss === Loss.Crashed) {
      if (this.idempotent && this.owner.retryStarted(this)) return
      this.owner.onCallFailed(this, 502, 'ROOST_E_INSTANCE_CRASHED', `instance ${id} ${detail} before answering (it crashed or was killed, see \`roost describe function\`); it is being replaced`)
    } else {
      this.owner.onCallFailed(this, 502, 'ROOST_E_INSTANCE_PROTOCOL', `instance ${id} broke the data protocol (${detail}); it is being replaced`)
    }
  }

  private writeBody (chunk: Buffer): void {
    const res = this.res
    if (res.write(chunk)) return
    if (this.responsePaused) {
      if (res.writableLength > FLOOD_LIMIT_BYTES) throw new WireError('ROOST_E_WIRE_MALFORMED', `more than ${FLOOD_LIMIT_BYTES} bytes of response body after Pause`)
      return
    }
    // The caller reads slower than the instance writes: hold the instance's stream.
    this.responsePaused = true
    this.connection?.pause(this.stream)
    res.once('drain', this.onDrained ??= () => this.callerDrained())
  }

  private callerDrained (): void {
    this.responsePaused = false
    if (this.state === CallState.Sent) this.connection?.resume(this.stream)
  }

  private responseHeaders (raw: string[]): string[] {
    const headers: string[] = []
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]
      let value = raw[i + 1]
      if (INSPECTED_LENGTHS.has(name.length)) {
        const lower = name.toLowerCase()
        if (HOP_BY_HOP_RESPONSE.has(lower)) continue
        if (lower === 'content-length') this.hasLength = true
        else if (lower === 'location') value = rewriteLocation(value, this.prefix, this.req.headers.host)
      }
      headers.push(name, value)
    }
    headers.push('x-request-id', this.requestId, 'x-roost-attempts', ATTEMPTS[this.attempts] ?? String(this.attempts))
    return headers
  }

  private dropKept (): void {
    this.kept = null
    this.retryable = false
  }

  private pauseBody (reason: Paused): void {
    if (this.paused === 0) this.req.pause()
    this.paused |= reason
  }

  private resumeBody (reason: number): void {
    if ((this.paused & reason) === 0) return
    this.paused &= ~reason
    if (this.paused === 0 && this.state !== CallState.Done) this.req.resume()
  }
}

/** Statuses that carry a body (and so a Content-Length). */
function hasBody (status: number): boolean {
  return status !== 204 && status !== 304
}
