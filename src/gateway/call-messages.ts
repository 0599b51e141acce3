import { IncomingMessage, ServerResponse } from 'node:http'

/** What a request's body events are delivered to (a Call). */
export interface BodyReceiver {
  onBodyChunk (chunk: Buffer): void
  onBodyEnd (): void
  onCallerGone (): void
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

function onClose (this: CallResponse): void {
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
export function attachCaller (res: CallResponse, call: BodyReceiver): void {
  res.call = call
  res.on('close', onClose)
}
