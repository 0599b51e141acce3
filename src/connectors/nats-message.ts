// How a message travels as a JetStream message, both ways: Roost's attribute
// headers (message-attributes.ts) as NATS headers beside the body, and a
// delivered message back into a BrokerMessage, whoever published it. A plain
// `nats pub` without headers gets the attributes derived from its stream and
// stream sequence.
import type { MsgHdrs } from '@nats-io/transport-node'
import { headers as natsHeaders } from '@nats-io/transport-node'
import type { BrokerMessage, OutgoingMessage } from './connector.js'
import { incomingMessage, messageHeaders } from './message-attributes.js'
import type { AckSubject } from './nats-ack-subject.js'

/** The NATS headers for `message`. Throws ValidationError for attributes no header can carry. */
export function outgoingHeaders (message: OutgoingMessage): MsgHdrs {
  const fields = messageHeaders(message)
  const headers = natsHeaders()
  for (const name in fields) headers.set(name, fields[name] as string)
  return headers
}

/** The message a delivery holds. Never throws: headers another client wrote still give a message Roost can deliver. */
export function deliveredMessage (delivery: AckSubject, data: Uint8Array, headers: MsgHdrs | undefined, attempt: number): BrokerMessage {
  return incomingMessage(headerRecord(headers), data, { kind: 'nats', queue: delivery.stream, brokerId: String(delivery.streamSequence) }, attempt, delivery.storedAt)
}

/** A header that came several times is a list: message-attributes.ts takes the first. */
function headerRecord (headers: MsgHdrs | undefined): Record<string, string[]> | undefined {
  if (headers === undefined) return undefined
  const record: Record<string, string[]> = Object.create(null)
  for (const name of headers.keys()) record[name] = headers.values(name)
  return record
}
