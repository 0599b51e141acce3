import { format } from 'node:util'
import { MAX_LOG_BATCH_LINES, MAX_LOG_LINE_BYTES, type LogLevel, type LogStream, type RuntimeLogLine, type LogsMessage } from './protocol.js'

// Lines are shipped to the parent in batches: one message per flush, not per
// line, so a chatty function costs one write every few milliseconds.
const FLUSH_DELAY_MS = 20
const MAX_BUFFERED_LINES = 10_000
/** A batch's JSON stays well under the control channel's 1 MiB frame bound. */
const MAX_BATCH_JSON_BYTES = 900 * 1024
const TRUNCATED = ' …[truncated]'
const TRUNCATED_BYTES = Buffer.byteLength(TRUNCATED)

/** Tells which request a line belongs to; see request-tracking.ts. */
export interface RequestSource {
  current (): string | null
}

export class LogCapture {
  private lines: RuntimeLogLine[] = []
  private dropped = 0
  private timer: NodeJS.Timeout | null = null
  private readonly send: (message: LogsMessage) => void
  private readonly canSend: () => boolean

  /** `canSend` false: the channel is backed up; lines wait here (and past the bound, are dropped and counted). */
  constructor (send: (message: LogsMessage) => void, canSend: () => boolean = () => true) {
    this.send = send
    this.canSend = canSend
  }

  write (level: LogLevel, stream: LogStream, requestId: string | null, args: unknown[]): void {
    if (this.lines.length >= MAX_BUFFERED_LINES) {
      this.dropped++
      return
    }
    const message = args.length === 1 && typeof args[0] === 'string' ? args[0] : format(...args)
    this.lines.push({ time: Date.now(), level, stream, requestId, message: boundLine(message) })
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
    if (!this.canSend()) {
      this.timer = setTimeout(this.flush, FLUSH_DELAY_MS)
      this.timer.unref()
      return
    }
    const lines = this.lines
    let dropped = this.dropped
    this.lines = []
    this.dropped = 0
    if (lines.length === 0) {
      this.send({ t: 'logs', lines, dropped })
      return
    }
    for (let at = 0; at < lines.length; at += MAX_LOG_BATCH_LINES) {
      this.sendBounded(lines.slice(at, at + MAX_LOG_BATCH_LINES), dropped)
      dropped = 0
    }
  }

  /** Halves a batch until its JSON fits a control frame (escaping can make a line's JSON six times its text). */
  private sendBounded (lines: RuntimeLogLine[], dropped: number): void {
    const message: LogsMessage = { t: 'logs', lines, dropped }
    if (lines.length === 1 || Buffer.byteLength(JSON.stringify(message)) <= MAX_BATCH_JSON_BYTES) {
      this.send(message)
      return
    }
    const half = lines.length >> 1
    this.sendBounded(lines.slice(0, half), dropped)
    this.sendBounded(lines.slice(half), 0)
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

/** Cuts a message to MAX_LOG_LINE_BYTES of UTF-8, the mark included. */
export function boundLine (message: string): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no count.
  if (message.length * 3 <= MAX_LOG_LINE_BYTES) return message
  const bytes = Buffer.from(message, 'utf8')
  if (bytes.length <= MAX_LOG_LINE_BYTES) return message
  let cut = bytes.subarray(0, MAX_LOG_LINE_BYTES - TRUNCATED_BYTES).toString('utf8')
  // A character cut in half decodes as U+FFFD: drop it.
  if (cut.endsWith('\ufffd')) cut = cut.slice(0, -1)
  while (Buffer.byteLength(cut) + TRUNCATED_BYTES > MAX_LOG_LINE_BYTES) cut = cut.slice(0, -1)
  return cut + TRUNCATED
}
