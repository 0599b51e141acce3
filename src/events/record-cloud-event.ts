import type { CloudEventAttributes } from './cloud-event.js'
import { SPEC_VERSION } from './cloud-event.js'
import type { LeasedRecord, RecordView } from './record-types.js'

type RecordAttributes = Pick<LeasedRecord | RecordView, 'id' | 'source' | 'type' | 'subject' | 'contentType' | 'attributes' | 'createdAt'>

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
