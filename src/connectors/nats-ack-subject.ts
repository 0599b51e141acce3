// What a JetStream message's reply subject says about its delivery. The
// server writes it as `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.
// <consumer seq>.<timestamp ns>.<pending>` (before 2.10), or with a domain and
// an account hash after `$JS.ACK` and a random token at the end (2.10 and
// later). Pure.

export interface AckSubject {
  stream: string
  consumer: string
  /** How often the consumer delivered this message, this delivery included. */
  deliveryCount: number
  streamSequence: number
  consumerSequence: number
  /** When the stream stored it, epoch ms. */
  storedAt: number
  /** Messages left for the consumer after this one. */
  pending: number
}

/** The delivery a reply subject describes, or undefined when it is no JetStream ack subject. */
export function parseAckSubject (reply: string | undefined): AckSubject | undefined {
  if (reply === undefined || !reply.startsWith('$JS.ACK.')) return undefined
  // Every message of a pull has one: split once, read the fields by position, no intermediate arrays.
  const tokens = reply.split('.')
  let at: number
  if (tokens.length === 9) at = 2
  else if (tokens.length >= 11) at = 4
  else return undefined
  const deliveryCount = count(tokens[at + 2] as string)
  const streamSequence = count(tokens[at + 3] as string)
  const consumerSequence = count(tokens[at + 4] as string)
  const stamp = tokens[at + 5] as string
  const pending = count(tokens[at + 6] as string)
  if (deliveryCount < 0 || streamSequence < 0 || consumerSequence < 0 || pending < 0 || !DIGITS.test(stamp)) return undefined
  return {
    stream: tokens[at] as string,
    consumer: tokens[at + 1] as string,
    deliveryCount,
    streamSequence,
    consumerSequence,
    // Nanoseconds, past 2^53: the milliseconds are its digits but the last six, read exactly.
    storedAt: stamp.length > 6 ? Number(stamp.slice(0, -6)) : 0,
    pending
  }
}

const DIGITS = /^\d+$/

/** A whole number ≥ 0 in decimal digits, or -1. */
function count (token: string): number {
  const n = Number(token)
  return token !== '' && Number.isSafeInteger(n) && n >= 0 ? n : -1
}
