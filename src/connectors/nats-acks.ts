// The acknowledgements a JetStream consumer takes, as the bytes sent to a
// message's reply subject. Pure.
import { RECORD_LIMITS } from '../events/index.js'

export const ACK = '+ACK'
export const WORKING = '+WPI'
const NAK = '-NAK'
const TERM = '+TERM'
/** How much of a dead message's reason goes with +TERM, where the server takes one (the dead record keeps it whole). */
export const TERM_REASON_LIMIT = 256

/** `-NAK`, with JetStream's delay in ns when there is one: redelivered after it (a delay that is no number is 0). */
export function nak (delayMs: number): string {
  const delay = Number.isFinite(delayMs) ? Math.min(Math.max(0, Math.round(delayMs)), RECORD_LIMITS.maxDelayMs) : 0
  return delay === 0 ? NAK : `${NAK} ${JSON.stringify({ delay: delay * 1_000_000 })}`
}

/** `+TERM`, bare where the server ignores a `+TERM` that carries a reason (before 2.11), with the reason on one line otherwise. */
export function term (reason: string, withReason: boolean): string {
  if (!withReason) return TERM
  const line = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, TERM_REASON_LIMIT) // eslint-disable-line no-control-regex
  return line === '' ? TERM : `${TERM} ${line}`
}
