import { IncomingMessage, ServerResponse, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'

/** What a request's body events are delivered to (a Call). */
export interface BodyReceiver {
  onBodyChunk (chunk: Buffer): void
  onBodyEnd (): void
  onCallerGone (): void
}

/**
 * What the gateway reads of a request it proxies: node's (CallRequest), or a
 * FastRequest (the fast path's, or a delivery of the control plane's), whose
 * body is in whole before it is routed.
 */
export interface ProxyRequest {
  readonly method?: string
  readonly url?: string
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: string[]
  /** Null for a delivery handed over in this process. */
  readonly socket: Socket | null
  readonly complete: boolean
  call: BodyReceiver | null
  forwardRaw: string[] | null
  preloaded: Buffer | null
  receivedBody: Buffer | null
  pause (): unknown
  resume (): unknown
}

/** What the gateway does with the response to a request it proxies (CallResponse, or the fast path's FastResponse). */
export interface ProxyResponse {
  call: BodyReceiver | null
  expectContinue: boolean
  keepAliveAfterContinue: boolean
  arrivedAt: number
  shouldKeepAlive: boolean
  readonly headersSent: boolean
  readonly destroyed: boolean
  readonly writableLength: number
  readonly socket: Socket | null
  writeHead (status: number, headers?: OutgoingHttpHeaders | string[]): unknown
  write (chunk: Buffer): boolean
  end (chunk?: Buffer | string): unknown
  destroy (): unknown
  writeContinue (): void
  once (event: 'drain', listener: () => void): unknown
  on (event: 'close', listener: () => void): unknown
}

/**
 * node's request and response, with a slot for the call they belong to: the
 * gateway's listeners are shared functions that find their call here, so a
 * request allocates no closures.
 */
export class CallRequest extends IncomingMessage {
  call: BodyReceiver | null = null
  /**
   * A request the gateway rewrote before routing it (a structured CloudEvent
   * turned to binary mode): the headers forwarded instead of rawHeaders, the
   * body it forwards, read whole, and the body as it came (a signature covers that one).
   */
  forwardRaw: string[] | null = null
  preloaded: Buffer | null = null
  receivedBody: Buffer | null = null
}

export class CallResponse extends ServerResponse<CallRequest> {
  call: BodyReceiver | null = null
  /** The request asked `Expect: 100-continue` and was not answered 100 yet. */
  expectContinue = false
  /** What node decided for keep-alive before the gateway held it back for a 100-continue. */
  keepAliveAfterContinue = false
  /** performance.now() when the request arrived. */
  arrivedAt = 0
}

function onData (this: CallRequest, chunk: Buffer): void {
  this.call?.onBodyChunk(chunk)
}

function onEnd (this: CallRequest): void {
  this.call?.onBodyEnd()
}

function onClose (this: ProxyResponse): void {
  this.call?.onCallerGone()
}

// A caller that resets mid-body surfaces as the response's close; the error itself says nothing more.
function ignore (): void {}

/** Delivers the request's body and the caller's departure to `call`. */
export function attachBody (req: CallRequest, res: CallResponse, call: BodyReceiver): void {
  req.call = call
  res.call = call
  req.on('data', onData)
  req.on('end', onEnd)
  req.on('error', ignore)
  res.on('close', onClose)
}

/** Delivers the caller's departure to `call` (a request without a body). */
export function attachCaller (res: ProxyResponse, call: BodyReceiver): void {
  res.call = call
  res.on('close', onClose)
}
