import type { LogCapture } from './log-capture.js'
import type { FunctionIdentity, LogLevel } from './protocol.js'
import { outgoingMessage, sendMessages, type PublishItem, type PublishOptions, type PublishResult, type PublishTarget } from './publish.js'

export interface Logger {
  debug (...args: unknown[]): void
  info (...args: unknown[]): void
  warn (...args: unknown[]): void
  error (...args: unknown[]): void
}

const NO_CALLS: CallSettings = { gatewayUrl: null, callToken: null }

// The logger is created on first use: most requests never log, and the hot
// path should not pay for an object it does not need.
class RequestLogger implements Logger {
  constructor (private readonly capture: LogCapture, private readonly requestId: string) {}
  debug (...args: unknown[]): void { this.write('debug', args) }
  info (...args: unknown[]): void { this.write('info', args) }
  warn (...args: unknown[]): void { this.write('warn', args) }
  error (...args: unknown[]): void { this.write('error', args) }
  private write (level: LogLevel, args: unknown[]): void {
    this.capture.write(level, 'ctx', this.requestId, args)
  }
}

/** How this instance calls other functions: the gateway and the token proving who calls (from `load`). */
export interface CallSettings {
  gatewayUrl: string | null
  callToken: string | null
}

/** What ctx reads of the request lazily: the headers the gateway sets. */
export interface ContextRequest {
  rawHeader (name: string): string | null
}

/** The `ctx` argument of a handler; see types/index.d.ts for the user-facing contract. */
export class Context {
  private logger: Logger | null = null
  readonly requestId: string
  readonly deadline: number
  readonly function: FunctionIdentity
  private readonly capture: LogCapture
  private readonly request: ContextRequest | null
  private readonly calls: CallSettings
  /** The async invocation's id when this request is one (`x-roost-event: invocation`), else null. */
  readonly callId: string | null

  constructor (
    requestId: string, deadline: number, fn: FunctionIdentity, capture: LogCapture,
    request: ContextRequest | null = null, calls: CallSettings = NO_CALLS, callId: string | null = null
  ) {
    this.requestId = requestId
    this.deadline = deadline
    this.function = fn
    this.capture = capture
    this.request = request
    this.calls = calls
    this.callId = callId
  }

  /** Who called, as the gateway's caller check found it (`key:<id>`, `jwt:<sub>`, `hmac:<secret>`, `fn:<ns>/<name>`); null: anyone. */
  get caller (): string | null {
    return this.request?.rawHeader('x-roost-caller') ?? null
  }

  /** The lane the request runs in (a lane rule matched it, or its caller passed one on); null: none. */
  get lane (): string | null {
    return this.request?.rawHeader('x-roost-lane') ?? null
  }

  /**
   * fetch() for calls to other functions: a path (`/fn/other`) goes to the
   * gateway; a call to the gateway carries this request's deadline and lane
   * and the token that proves which function calls (private functions accept
   * only that). Calls elsewhere go out as given.
   */
  fetch (input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const gateway = this.calls.gatewayUrl
    const relative = typeof input === 'string' && input.startsWith('/')
    if (relative && gateway === null) return Promise.reject(new TypeError(`ctx.fetch('${input}'): this instance knows no gateway to call`))
    const request = new Request(relative ? new URL(input, gateway as string) : input, init)
    if (gateway === null || new URL(request.url).origin !== new URL(gateway).origin) return fetch(request)
    const headers = request.headers
    if (this.calls.callToken !== null) headers.set('x-roost-call', this.calls.callToken)
    headers.set('x-roost-deadline', String(this.deadline))
    const lane = this.lane
    if (lane !== null) headers.set('x-roost-lane', lane)
    headers.set('x-request-id', this.requestId)
    return fetch(request)
  }

  /** Publishes one message to a queue of this function's namespace; resolves once the store has it. */
  publish (queue: string, body: unknown, options?: PublishOptions): Promise<PublishResult> {
    const what = `ctx.publish(${JSON.stringify(queue)})`
    try {
      checkQueue(queue, what)
      return sendMessages(this.publishTarget(), queue, [outgoingMessage(body, options, what)], what).then((results) => results[0])
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Publishes several messages in one request, each with its own options; all are taken or none (a full queue refuses the batch). */
  publishBatch (queue: string, items: PublishItem[]): Promise<PublishResult[]> {
    const what = `ctx.publishBatch(${JSON.stringify(queue)})`
    try {
      checkQueue(queue, what)
      if (!Array.isArray(items)) throw new TypeError(`${what}: items must be an array of { body, key?, delay?, attributes?, onDuplicate? }`)
      if (items.length === 0) return Promise.resolve([])
      const messages = items.map((item, i) => {
        if (typeof item !== 'object' || item === null) throw new TypeError(`${what}: items[${i}] must be an object with a body`)
        return outgoingMessage(item.body, item, `${what}: items[${i}]`)
      })
      return sendMessages(this.publishTarget(), queue, messages, what)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private publishTarget (): PublishTarget {
    return { gatewayUrl: this.calls.gatewayUrl, callToken: this.calls.callToken, requestId: this.requestId, deadline: this.deadline }
  }

  get log (): Logger {
    if (this.logger === null) this.logger = new RequestLogger(this.capture, this.requestId)
    return this.logger
  }

  /** Milliseconds left before the gateway answers 504 on the caller's behalf. */
  remainingMs (): number {
    return Math.max(0, this.deadline - Date.now())
  }
}

function checkQueue (queue: unknown, what: string): void {
  if (typeof queue !== 'string' || queue === '') throw new TypeError(`${what}: the queue must be a non-empty name`)
}
