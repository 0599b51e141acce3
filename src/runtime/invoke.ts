import { Context, type CallSettings } from './context.js'
import type { LazyRequest } from './lazy-request.js'
import { LightResponse, NativeResponse } from './light-response.js'
import type { LogCapture } from './log-capture.js'
import type { FunctionIdentity } from './protocol.js'
import type { RequestTracking } from './request-tracking.js'
import type { ResponseSink } from './response-sink.js'
import { writeResponse } from './response-writer.js'

export type FetchHandler = (req: Request, ctx: Context) => unknown

const PROBLEM_TYPE = 'application/problem+json'

/** What a request brings besides its Request: who it is and until when it may run. */
export interface InvocationInfo {
  requestId: string
  /** Epoch ms; 0 when the caller set none (the function's timeout applies). */
  deadline: number
}

/**
 * Calls the handler with a request and writes its Response to a sink,
 * whatever the transport. Holds the instance's in-flight count for draining.
 */
export class Invoker {
  inflight = 0
  private handler: FetchHandler | null = null
  private fn: FunctionIdentity | null = null
  private timeoutMs = 30_000
  private onIdle: (() => void) | null = null
  private calls: CallSettings = { gatewayUrl: null, callToken: null }

  constructor (private readonly capture: LogCapture, private readonly requests: RequestTracking) {}

  get loaded (): boolean {
    return this.handler !== null
  }

  setHandler (handler: FetchHandler, fn: FunctionIdentity, timeoutMs: number, calls?: CallSettings): void {
    this.handler = handler
    this.fn = fn
    this.timeoutMs = timeoutMs
    if (calls !== undefined) this.calls = calls
  }

  /** Back to serving nothing, as before the first `setHandler`. */
  clearHandler (): void {
    this.handler = null
    this.fn = null
  }

  /** Calls `callback` once nothing is in flight (at once if nothing is). */
  whenIdle (callback: () => void): void {
    if (this.inflight === 0) callback()
    else this.onIdle = callback
  }

  /** Runs `fn` as part of a request, so that what it logs carries the request's id (a cancel's abort listeners, say). */
  within (requestId: string, fn: () => void): void {
    this.requests.run(requestId, fn)
  }

  /** Serves one request; the caller checked `loaded`. */
  serve (request: LazyRequest, info: InvocationInfo, sink: ResponseSink): void {
    this.inflight++
    const requestId = info.requestId
    const deadline = info.deadline > 0 ? info.deadline : Date.now() + this.timeoutMs
    const ctx = new Context(requestId, deadline, this.fn as FunctionIdentity, this.capture, request, this.calls)
    let result: unknown
    try {
      result = this.requests.run(requestId, this.handler as FetchHandler, request as unknown as Request, ctx)
    } catch (err) {
      this.fail(sink, requestId, 'the function threw an error', err)
      this.release(requestId)
      return
    }
    // A handler that answers synchronously is written without a turn of the promise machinery.
    if (result instanceof NativeResponse) this.write(result, request, sink, requestId)
    else if (isThenable(result)) {
      result.then(
        (response: unknown) => { this.write(response, request, sink, requestId) },
        (err: unknown) => { this.fail(sink, requestId, 'the function threw an error', err); this.release(requestId) }
      )
    } else this.write(result, request, sink, requestId)
  }

  private write (response: unknown, request: LazyRequest, sink: ResponseSink, requestId: string): void {
    if (!(response instanceof NativeResponse)) {
      this.fail(sink, requestId, `the function returned ${describeValue(response)} instead of a Response`, null)
      this.release(requestId)
      return
    }
    if (sink.closed) {
      // A light Response holds no stream to cancel; asking for its body would build one.
      if (!LightResponse.is(response)) response.body?.cancel().catch(() => {})
      this.release(requestId)
      return
    }
    let pending: Promise<void> | undefined
    try {
      pending = writeResponse(response, sink, request.method === 'HEAD')
    } catch (err) {
      this.fail(sink, requestId, 'the response could not be sent', err)
      this.release(requestId)
      return
    }
    if (pending === undefined) {
      this.release(requestId)
      return
    }
    sink.pending()
    pending.then(() => this.release(requestId), (err: unknown) => {
      // The head is gone: the sink aborted the stream; the cause goes to the logs.
      this.capture.write('error', 'system', requestId, ['error while streaming the response:', err])
      this.release(requestId)
    })
  }

  private release (requestId: string): void {
    this.requests.end(requestId)
    this.inflight--
    if (this.inflight === 0 && this.onIdle !== null) {
      const onIdle = this.onIdle
      this.onIdle = null
      onIdle()
    }
  }

  private fail (sink: ResponseSink, requestId: string, detail: string, err: unknown): void {
    if (err !== null) this.capture.write('error', 'system', requestId, [`${detail}:`, err])
    else this.capture.write('error', 'system', requestId, [detail])
    if (sink.closed) return
    const code = 'ROOST_E_HANDLER'
    const body = JSON.stringify({
      type: `https://roost.dev/errors/${code}`,
      // problemTitle() of src/errors, which the runtime may not import.
      title: 'Handler',
      status: 500,
      code,
      detail: `${detail}; see \`roost logs ${this.fn?.name ?? ''}\` for request ${requestId}`,
      requestId
    })
    sink.whole(500, ['content-type', PROBLEM_TYPE], body, false)
  }
}

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

function describeValue (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`
}
