import { Context, type CallSettings } from './context.js'
import { CALL_ID_HEADER, EVENT_HEADER, serveDelivery, type DeliveryHost } from './event-delivery.js'
import type { LazyRequest } from './lazy-request.js'
import { LightResponse, NativeResponse } from './light-response.js'
import type { LogCapture } from './log-capture.js'
import type { FetchHandler, ModuleHandlers } from './module-handlers.js'
import { PROBLEM_TYPE, problemDocument, writeProblem } from './problem.js'
import type { FunctionIdentity } from './protocol.js'
import type { RequestTracking } from './request-tracking.js'
import type { ResponseSink } from './response-sink.js'
import { writeResponse } from './response-writer.js'

const NO_HANDLERS: ModuleHandlers = { fetch: null, queue: null, scheduled: null }

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
export class Invoker implements DeliveryHost {
  inflight = 0
  /** The module's fetch handler, or a stand-in answering 500 for a module without one. */
  private handler: FetchHandler | null = null
  private loadedHandlers: ModuleHandlers = NO_HANDLERS
  private fn: FunctionIdentity | null = null
  private timeoutMs = 30_000
  private onIdle: (() => void) | null = null
  private calls: CallSettings = { gatewayUrl: null, callToken: null }

  constructor (readonly capture: LogCapture, private readonly requests: RequestTracking) {}

  get loaded (): boolean {
    return this.handler !== null
  }

  get handlers (): ModuleHandlers {
    return this.loadedHandlers
  }

  get functionName (): string {
    return this.fn?.name ?? ''
  }

  setHandlers (handlers: ModuleHandlers, fn: FunctionIdentity, timeoutMs: number, calls?: CallSettings): void {
    this.loadedHandlers = handlers
    this.handler = handlers.fetch ?? this.noFetch
    this.fn = fn
    this.timeoutMs = timeoutMs
    if (calls !== undefined) this.calls = calls
  }

  /** Back to serving nothing, as before the first `setHandlers`. */
  clearHandlers (): void {
    this.loadedHandlers = NO_HANDLERS
    this.handler = null
    this.fn = null
  }

  run<A extends unknown[], R> (requestId: string, fn: (...args: A) => R, ...args: A): R {
    return this.requests.run(requestId, fn, ...args)
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

  /** Serves one request; the caller checked `loaded`. `callId`: it is the async invocation of that id. */
  serve (request: LazyRequest, info: InvocationInfo, sink: ResponseSink, callId: string | null = null): void {
    this.inflight++
    const requestId = info.requestId
    const deadline = info.deadline > 0 ? info.deadline : Date.now() + this.timeoutMs
    const ctx = new Context(requestId, deadline, this.fn as FunctionIdentity, this.capture, request, this.calls, callId)
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

  /**
   * Serves a request the gateway flagged as a delivery of the platform's
   * (`x-roost-event`): an async invocation goes to the fetch handler, a queue
   * batch or a cron firing to their handlers. The caller checked `loaded`.
   */
  serveEvent (request: LazyRequest, info: InvocationInfo, sink: ResponseSink): void {
    const kind = request.rawHeader(EVENT_HEADER)
    if (kind === 'invocation') {
      this.serve(request, info, sink, request.rawHeader(CALL_ID_HEADER))
      return
    }
    this.inflight++
    const requestId = info.requestId
    const deadline = info.deadline > 0 ? info.deadline : Date.now() + this.timeoutMs
    const ctx = new Context(requestId, deadline, this.fn as FunctionIdentity, this.capture, request, this.calls)
    sink.pending()
    serveDelivery(kind, request, ctx, this, sink).then(() => this.release(requestId), (err: unknown) => {
      this.capture.write('error', 'system', requestId, ['the runtime failed while serving a delivery:', err])
      this.release(requestId)
    })
  }

  // The fetch handler of a module that serves only events.
  private readonly noFetch: FetchHandler = (_req, ctx) => {
    const detail = `function ${this.functionName} serves no HTTP requests: its module exports no fetch handler (only ${this.handlers.queue !== null ? 'queue' : 'scheduled'}${this.handlers.queue !== null && this.handlers.scheduled !== null ? ' and scheduled' : ''})`
    this.capture.write('error', 'system', ctx.requestId, [detail])
    return new NativeResponse(problemDocument({ status: 500, code: 'ROOST_E_NO_HANDLER', detail }, ctx.requestId), { status: 500, headers: { 'content-type': PROBLEM_TYPE } })
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
    writeProblem(sink, { status: 500, code: 'ROOST_E_HANDLER', detail: `${detail}; see \`roost logs ${this.functionName}\` for request ${requestId}` }, requestId)
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
