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
  if (reply === undefined) return undefined
  const tokens = reply.split('.')
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return undefined
  let fields: string[]
  if (tokens.length === 9) fields = tokens.slice(2)
  else if (tokens.length >= 11) fields = tokens.slice(4, 11)
  else return undefined
  const [stream, consumer, delivered, streamSeq, consumerSeq, stamp, pending] = fields as [string, string, string, string, string, string, string]
  const numbers = [delivered, streamSeq, consumerSeq, pending].map(Number)
  if (numbers.some((n) => !Number.isSafeInteger(n) || n < 0) || !/^\d+$/.test(stamp)) return undefined
  return {
    stream,
    consumer,
    deliveryCount: numbers[0] as number,
    streamSequence: numbers[1] as number,
    consumerSequence: numbers[2] as number,
    storedAt: Number(BigInt(stamp) / 1_000_000n),
    pending: numbers[3] as number
  }
}
