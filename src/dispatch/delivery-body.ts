// The bodies of deliveries (docs/event-delivery.md), written as JSON text
// directly: a JSON message body is spliced in as stored, not parsed and
// serialised again for every delivery.
import type { LeasedRecord } from '../events/index.js'

/** `{ "queue": …, "messages": [ … ] }` for the runtime's `queue(batch, ctx)`. */
export function queueDeliveryBody (queue: string, records: readonly LeasedRecord[]): string {
  let text = `{"queue":${JSON.stringify(queue)},"messages":[`
  for (let i = 0; i < records.length; i++) {
    if (i > 0) text += ','
    text += messageJson(records[i] as LeasedRecord)
  }
  return text + ']}'
}

function messageJson (r: LeasedRecord): string {
  const subject = r.subject === undefined ? '' : `,"subject":${JSON.stringify(r.subject)}`
  return `{"id":${JSON.stringify(r.id)},"body":${bodyJson(r)},"bodyType":"${r.bodyType}","attributes":${JSON.stringify(r.attributes)},` +
    `"attempt":${r.attempt},"maxAttempts":${r.maxAttempts},"source":${JSON.stringify(r.source)},"type":${JSON.stringify(r.type)}${subject},` +
    `"contentType":${JSON.stringify(r.contentType)},"createdAt":${r.createdAt}}`
}

function bodyJson (r: LeasedRecord): string {
  const bytes = Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength)
  switch (r.bodyType) {
    // Stored as the JSON text the publisher's value serialised to.
    case 'json': return bytes.toString('utf8')
    case 'text': return JSON.stringify(bytes.toString('utf8'))
    case 'bytes': return JSON.stringify(bytes.toString('base64'))
  }
}

/** What a cron firing's record holds: the trigger and the time it stands for. */
export interface FiringBody {
  trigger: string
  cron: string
  timezone: string
  scheduledTime: number
}

/** `{ trigger, cron, timezone, scheduledTime, id }` for the runtime's `scheduled(event, ctx)`. */
export function scheduledDeliveryBody (record: LeasedRecord): string {
  const text = Buffer.from(record.body.buffer, record.body.byteOffset, record.body.byteLength).toString('utf8')
  // A firing's body is the object the scheduler stored; the id comes from the record.
  return `${text.slice(0, text.lastIndexOf('}'))},"id":${JSON.stringify(record.id)}}`
}
