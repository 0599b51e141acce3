// The control messages as the platform sees them, and the check that every
// message from an instance passes before any of it is used. An instance runs
// user code that can write anything on fd 3: a message is data to validate
// field by field, never a trusted object (docs/internal-protocol.md).

import {
  MAX_LOAD_FAILED_REASON_BYTES, MAX_LOG_BATCH_LINES, MAX_LOG_LINE_BYTES,
  type ChildMessage, type FunctionIdentity, type LogLevel, type LogStream, type RuntimeLogLine
} from '../runtime/index.js'

export type { ChildMessage, LoadMessage, LogLevel, LogStream, ParentMessage } from '../runtime/index.js'
/** One line a function wrote, as a `logs` message carries it. */
export type ControlLogLine = RuntimeLogLine
export type FunctionRef = FunctionIdentity

export const MAX_LOG_LINES_PER_MESSAGE = MAX_LOG_BATCH_LINES
/** 16 KiB of text, and room for the runtime's own truncation mark after it. */
export const MAX_LOG_LINE_CHARS = MAX_LOG_LINE_BYTES + 32
export const MAX_LOAD_FAILED_CHARS = MAX_LOAD_FAILED_REASON_BYTES
export const MAX_REQUEST_ID_CHARS = 256
const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error'])
const STREAMS: ReadonlySet<string> = new Set(['console', 'ctx', 'stdout', 'stderr', 'system'])
const SECRET = /^[0-9a-f]{64}$/

export type Checked = { ok: true, message: ChildMessage } | { ok: false, problem: string }

/** Parses and validates one control frame's payload; says what is wrong instead of throwing. */
export function parseChildMessage (payload: Buffer): Checked {
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch {
    return fail('the frame is not JSON')
  }
  try {
    return { ok: true, message: checkMessage(value) }
  } catch (err) {
    if (err instanceof Violation) return fail(err.message)
    throw err
  }
}

// Thrown only inside this file, where a deep check is shortest as a throw.
class Violation extends Error {}

function fail (problem: string): Checked {
  return { ok: false, problem }
}

function checkMessage (value: unknown): ChildMessage {
  const message = record(value, 'the message')
  const t = message.t
  switch (t) {
    case 'listening': {
      const secret = message.secret
      if (typeof secret !== 'string' || !SECRET.test(secret)) throw new Violation('listening.secret must be 64 lowercase hex characters')
      return { t, secret }
    }
    case 'ready':
      return { t, loadMs: number(message.loadMs, 'ready.loadMs', 0, 86_400_000) }
    case 'load-failed':
      return { t, reason: string(message.reason, 'load-failed.reason', MAX_LOAD_FAILED_CHARS) }
    case 'pong':
      return {
        t,
        id: integer(message.id, 'pong.id', 0, Number.MAX_SAFE_INTEGER),
        elu: number(message.elu, 'pong.elu', 0, 1),
        cpuUs: number(message.cpuUs, 'pong.cpuUs', 0, Number.MAX_SAFE_INTEGER)
      }
    case 'logs':
      return { t, lines: logLines(message.lines), dropped: integer(message.dropped, 'logs.dropped', 0, Number.MAX_SAFE_INTEGER) }
    case 'drained':
      return { t }
    default:
      throw new Violation(typeof t === 'string' ? `unknown message type ${JSON.stringify(t.slice(0, 40))}` : 'the message has no string field t')
  }
}

function logLines (value: unknown): ControlLogLine[] {
  if (!Array.isArray(value)) throw new Violation('logs.lines must be an array')
  if (value.length > MAX_LOG_LINES_PER_MESSAGE) throw new Violation(`logs.lines holds ${value.length} lines, more than ${MAX_LOG_LINES_PER_MESSAGE}`)
  const lines: ControlLogLine[] = new Array(value.length)
  for (let i = 0; i < value.length; i++) {
    const field = `logs.lines[${i}]`
    const line = record(value[i], field)
    const level = line.level
    const stream = line.stream
    if (typeof level !== 'string' || !LEVELS.has(level)) throw new Violation(`${field}.level must be one of debug, info, warn, error`)
    if (typeof stream !== 'string' || !STREAMS.has(stream)) throw new Violation(`${field}.stream must be one of console, ctx, stdout, stderr, system`)
    const requestId = line.requestId === null ? null : string(line.requestId, `${field}.requestId`, MAX_REQUEST_ID_CHARS)
    lines[i] = {
      time: number(line.time, `${field}.time`, 0, 8.64e15),
      level: level as LogLevel,
      stream: stream as LogStream,
      requestId,
      message: string(line.message, `${field}.message`, MAX_LOG_LINE_CHARS)
    }
  }
  return lines
}

function record (value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Violation(`${what} must be an object`)
  return value as Record<string, unknown>
}

function string (value: unknown, field: string, maxChars: number): string {
  if (typeof value !== 'string') throw new Violation(`${field} must be a string`)
  if (value.length > maxChars) throw new Violation(`${field} is ${value.length} characters long, more than ${maxChars}`)
  return value
}

function number (value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Violation(`${field} must be a finite number`)
  if (value < min || value > max) throw new Violation(`${field} must be between ${min} and ${max}, got ${value}`)
  return value
}

function integer (value: unknown, field: string, min: number, max: number): number {
  const n = number(value, field, min, max)
  if (!Number.isInteger(n)) throw new Violation(`${field} must be a whole number, got ${n}`)
  return n
}

/** What an instance sent, cut short and escaped, for an event that names it. */
export function excerpt (payload: Buffer, maxChars = 120): string {
  const text = payload.subarray(0, maxChars * 4).toString('utf8')
  const cut = text.length > maxChars ? text.slice(0, maxChars) + '…' : text
  return JSON.stringify(cut)
}
