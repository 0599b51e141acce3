// What crosses the delivery channel between the control plane's thread and
// the gateway's worker (delivery-channel.ts → delivery-port.ts): plain data,
// with each body in an ArrayBuffer of its own so that it is moved, not copied.
// Each message on the port is an array of these: the answers of one turn go
// together (port-batch.ts); a command goes alone, in an array of one.

/** A delivery, its headers as a flat list of names and values (repeats and order kept). */
export interface DeliverCommand {
  t: 'deliver'
  id: number
  method: string
  path: string
  rawHeaders: string[]
  body: Uint8Array
}

/** The caller gave up (its time ran out, or it was aborted): the gateway treats it as a caller that left. */
export interface CancelCommand {
  t: 'cancel'
  id: number
}

export type DeliveryCommand = DeliverCommand | CancelCommand

/** Header names in lower case, repeats joined with ", "; the body cut at MAX_ANSWER_BYTES. */
export interface AnswerReply {
  t: 'answer'
  id: number
  status: number
  headers: Record<string, string>
  body: Uint8Array
}

/** The gateway ended the delivery without a whole answer (as a connection closed before it). */
export interface FailedReply {
  t: 'failed'
  id: number
  error: string
}

export type DeliveryReply = AnswerReply | FailedReply

/**
 * An answer's body is kept up to this; the rest is dropped. A queue handler's
 * results are small; an invocation's stored response is cut at its queue's
 * maxResponseBytes (1 MiB), so a little more tells the store it was cut.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024 + 1
