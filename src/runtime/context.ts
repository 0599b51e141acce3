import type { LogCapture } from './log-capture.js'
import type { FunctionIdentity, LogLevel } from './protocol.js'

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

  constructor (requestId: string, deadline: number, fn: FunctionIdentity, capture: LogCapture, request: ContextRequest | null = null, calls: CallSettings = NO_CALLS) {
    this.requestId = requestId
    this.deadline = deadline
    this.function = fn
    this.capture = capture
    this.request = request
    this.calls = calls
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

  get log (): Logger {
    if (this.logger === null) this.logger = new RequestLogger(this.capture, this.requestId)
    return this.logger
  }

  /** Milliseconds left before the gateway answers 504 on the caller's behalf. */
  remainingMs (): number {
    return Math.max(0, this.deadline - Date.now())
  }
}
