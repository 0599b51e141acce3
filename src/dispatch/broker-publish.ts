// A publish to a broker trigger's queue (ctx.publish, `roost publish`, a dlq
// replay) as the connector's outgoing messages. What only the embedded queue
// can do (a delay, replacing a waiting message by its key) is refused with
// its field; a key becomes the message's id, which brokers that deduplicate
// (JetStream) use for it.
import { randomUUID } from 'node:crypto'
import type { OutgoingMessage } from '../connectors/index.js'
import { PayloadTooLargeError, ValidationError, type FieldProblem } from '../errors/index.js'
import type { NewRecord } from '../events/index.js'
import { defaultContentType, encodeBody, RECORD_LIMITS } from '../events/index.js'

/** The embedded queue's default body bound, kept on brokers too: a handler gets the same messages wherever they wait. */
export const MAX_BROKER_BODY_BYTES = 256 * 1024

export function outgoingMessages (namespace: string, queue: string, records: readonly NewRecord[]): OutgoingMessage[] {
  const problems: FieldProblem[] = []
  const at = (i: number, name: string): string => records.length === 1 ? name : `messages[${i}].${name}`
  const messages = records.map((record, i) => {
    if ((record.delayMs ?? 0) > 0) problems.push({ field: at(i, 'delay'), message: `queue ${queue} is on a broker, which has no delayed publish: publish it when it is due` })
    if (record.onDuplicate === 'replace') problems.push({ field: at(i, 'onDuplicate'), message: `queue ${queue} is on a broker, where a waiting message cannot be replaced` })
    const encoded = record.bodyType === undefined ? encodeBody(record.body) : { bytes: record.body as Uint8Array, type: record.bodyType }
    if (encoded.bytes.byteLength > MAX_BROKER_BODY_BYTES) {
      throw new PayloadTooLargeError(`the body is ${encoded.bytes.byteLength} bytes; queue ${namespace}/${queue} takes at most ${MAX_BROKER_BODY_BYTES}`, { field: at(i, 'body') })
    }
    const id = record.id ?? record.key ?? randomUUID()
    if (id.length > RECORD_LIMITS.maxIdLength) problems.push({ field: at(i, record.key !== undefined ? 'key' : 'id'), message: `at most ${RECORD_LIMITS.maxIdLength} characters` })
    const message: OutgoingMessage = {
      id,
      body: encoded.bytes,
      bodyType: encoded.type,
      source: record.source ?? `/namespaces/${namespace}/queues/${queue}`,
      type: record.type ?? 'dev.roost.queue.message',
      contentType: record.contentType ?? defaultContentType(encoded.type),
      attributes: record.attributes ?? {}
    }
    if (record.subject !== undefined) message.subject = record.subject
    return message
  })
  if (problems.length > 0) throw new ValidationError(problems)
  return messages
}
