import type { LogCapture } from './log-capture.js'
import type { FunctionIdentity, LogLevel } from './protocol.js'

export interface Logger {
  debug (...args: unknown[]): void
  info (...args: unknown[]): void
  warn (...args: unknown[]): void
  error (...args: unknown[]): void
}

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

/** The `ctx` argument of a handler; see types/index.d.ts for the user-facing contract. */
export class Context {
  private logger: Logger | null = null
  readonly requestId: string
  readonly deadline: number
  readonly function: FunctionIdentity
  private readonly capture: LogCapture

  constructor (requestId: string, deadline: number, fn: FunctionIdentity, capture: LogCapture) {
    this.requestId = requestId
    this.deadline = deadline
    this.function = fn
    this.capture = capture
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
