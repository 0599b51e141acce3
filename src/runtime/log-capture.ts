import { format } from 'node:util'
import type { LogLevel, LogStream, RuntimeLogLine, LogsMessage } from './protocol.js'

// Lines are shipped to the parent in batches: one IPC message per flush, not
// per line, so a chatty function costs one syscall every few milliseconds.
const FLUSH_DELAY_MS = 20
const MAX_BUFFERED_LINES = 10_000
const MAX_LINE_BYTES = 16 * 1024

/** Tells which request a line belongs to; see request-tracking.ts. */
export interface RequestSource {
  current (): string | null
}

export class LogCapture {
  private lines: RuntimeLogLine[] = []
  private dropped = 0
  private timer: NodeJS.Timeout | null = null
  private readonly send: (message: LogsMessage) => void

  constructor (send: (message: LogsMessage) => void) {
    this.send = send
  }

  write (level: LogLevel, stream: LogStream, requestId: string | null, args: unknown[]): void {
    if (this.lines.length >= MAX_BUFFERED_LINES) {
      this.dropped++
      return
    }
    let message = args.length === 1 && typeof args[0] === 'string' ? args[0] : format(...args)
    if (message.length > MAX_LINE_BYTES) message = message.slice(0, MAX_LINE_BYTES) + ' …[truncated]'
    this.lines.push({ time: Date.now(), level, stream, requestId, message })
    if (this.timer === null) {
      this.timer = setTimeout(this.flush, FLUSH_DELAY_MS)
      this.timer.unref()
    }
  }

  readonly flush = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.lines.length === 0 && this.dropped === 0) return
    const message: LogsMessage = { t: 'logs', lines: this.lines, dropped: this.dropped }
    this.lines = []
    this.dropped = 0
    this.send(message)
  }

  /** Routes console.* of user code into the capture, tagged with the current request. */
  patchConsole (requests: RequestSource): void {
    const levels: Array<[keyof Console, LogLevel]> = [
      ['log', 'info'], ['info', 'info'], ['debug', 'debug'], ['trace', 'debug'], ['warn', 'warn'], ['error', 'error']
    ]
    for (const [method, level] of levels) {
      (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => {
        this.write(level, 'console', requests.current(), args)
      }
    }
  }
}
