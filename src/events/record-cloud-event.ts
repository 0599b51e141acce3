import type { CloudEventAttributes } from './cloud-event.js'
import { SPEC_VERSION } from './cloud-event.js'
import { cloudEventHeaders } from './cloud-event-http.js'
import type { LeasedRecord, RecordView } from './record-types.js'

export type RecordAttributes = Pick<LeasedRecord | RecordView, 'id' | 'source' | 'type' | 'subject' | 'contentType' | 'attributes' | 'createdAt'>

/** Every record is a CloudEvent: its id, source and type, published at createdAt, with its attributes as extensions. */
export function recordCloudEvent (record: RecordAttributes): CloudEventAttributes {
  const attributes: CloudEventAttributes = {
    specversion: SPEC_VERSION,
    id: record.id,
    source: record.source,
    type: record.type,
    datacontenttype: record.contentType,
    time: new Date(record.createdAt).toISOString(),
    extensions: { ...record.attributes }
  }
  if (record.subject !== undefined) attributes.subject = record.subject
  return attributes
}

/**
 * The record as a binary-mode CloudEvent's ce-* headers, for a delivery of it
 * (an invocation, a cron firing). No Content-Type: the delivery's body is not
 * the record's body (a stored request replays the call's own body).
 */
export function recordCloudEventHeaders (record: RecordAttributes): Array<[string, string]> {
  const attributes = recordCloudEvent(record)
  delete attributes.datacontenttype
  return Object.entries(cloudEventHeaders(attributes))
}
