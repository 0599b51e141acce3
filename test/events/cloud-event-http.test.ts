import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BadRequestError, ValidationError } from '../../src/errors/index.js'
import { cloudEventHeaders, percentEncode, receiveCloudEvent, recordCloudEvent } from '../../src/events/index.js'

const body = (text: string): Buffer => Buffer.from(text, 'utf8')
const BINARY = {
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': 'order-7',
  'ce-source': '/shop/orders',
  'ce-type': 'com.example.order.created'
}

function fieldsOf (fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ValidationError, `a ValidationError, got ${String(err)}`)
    return err.errors.map((e) => e.field)
  }
  assert.fail('expected a ValidationError')
}

test('binary mode: attributes from ce-* headers, the content type from Content-Type, the data from the body', () => {
  const event = receiveCloudEvent({ ...BINARY, 'ce-time': '2025-03-30T01:30:00Z', 'ce-subject': 'o/7', 'ce-traceparent': '00-abc-01', host: 'x' }, body('{"n":7}'))
  assert.deepEqual(event, {
    mode: 'binary',
    attributes: {
      specversion: '1.0', id: 'order-7', source: '/shop/orders', type: 'com.example.order.created',
      datacontenttype: 'application/json', subject: 'o/7', time: '2025-03-30T01:30:00Z', extensions: { traceparent: '00-abc-01' }
    },
    data: body('{"n":7}')
  })
})

test('a request with no ce-* header and no cloudevents content type is not an event', () => {
  assert.equal(receiveCloudEvent({ 'content-type': 'application/json' }, body('{}')), undefined)
})

test('binary mode: header values are percent-decoded, lower-case hex and UTF-8 included', () => {
  const event = receiveCloudEvent({ ...BINARY, 'ce-subject': 'caf%c3%a9%20au%20lait' }, Buffer.alloc(0))
  assert.equal(event?.attributes.subject, 'café au lait')
  assert.equal(event?.data, undefined)
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-subject': '%ff' }, Buffer.alloc(0))), ['ce-subject'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-subject': '100%' }, Buffer.alloc(0))), ['ce-subject'])
})

test('binary mode: every missing required attribute is named, as the header that should carry it', () => {
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ 'ce-type': 't' }, Buffer.alloc(0))), ['ce-specversion', 'ce-id', 'ce-source'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-id': '' }, Buffer.alloc(0))), ['ce-id'])
})

test('binary mode: a wrong spec version, a bad time, a bad extension name and ce-datacontenttype are refused', () => {
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-specversion': '0.3' }, Buffer.alloc(0))), ['ce-specversion'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-time': 'yesterday' }, Buffer.alloc(0))), ['ce-time'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-order_id': '7' }, Buffer.alloc(0))), ['ce-order_id'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-datacontenttype': 'text/plain' }, Buffer.alloc(0))), ['ce-datacontenttype'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent({ ...BINARY, 'ce-source': 'has space' }, Buffer.alloc(0))), ['ce-source'])
})

test('structured mode: every attribute in the JSON body, JSON data kept as JSON text, extensions typed', () => {
  const event = receiveCloudEvent({ 'content-type': 'application/cloudevents+json; charset=UTF-8' }, body(JSON.stringify({
    specversion: '1.0', id: 'e1', source: 'urn:shop', type: 'order', datacontenttype: 'application/json',
    data: { n: 7 }, priority: 3, urgent: true
  })))
  assert.deepEqual(event, {
    mode: 'structured',
    attributes: { specversion: '1.0', id: 'e1', source: 'urn:shop', type: 'order', datacontenttype: 'application/json', extensions: { priority: 3, urgent: true } },
    data: body('{"n":7}')
  })
})

test('structured mode: data_base64 is decoded; a string under a text type is the text itself', () => {
  const base = { specversion: '1.0', id: 'e1', source: 'urn:shop', type: 'order' }
  const bytes = receiveCloudEvent({ 'content-type': 'application/cloudevents+json' }, body(JSON.stringify({ ...base, datacontenttype: 'application/octet-stream', data_base64: 'AAH/' })))
  assert.deepEqual(bytes?.data, Buffer.from([0, 1, 255]))
  const text = receiveCloudEvent({ 'content-type': 'application/cloudevents+json' }, body(JSON.stringify({ ...base, datacontenttype: 'text/plain', data: 'hi' })))
  assert.deepEqual(text?.data, body('hi'))
  const none = receiveCloudEvent({ 'content-type': 'application/cloudevents+json' }, body(JSON.stringify(base)))
  assert.equal(none?.data, undefined)
})

test('structured mode: missing attributes, data with data_base64, and non-JSON are refused', () => {
  const ct = { 'content-type': 'application/cloudevents+json' }
  assert.deepEqual(fieldsOf(() => receiveCloudEvent(ct, body('{"specversion":"1.0","type":"t"}'))), ['id', 'source'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent(ct, body('{"specversion":"1.0","id":"1","source":"s","type":"t","data":1,"data_base64":"AA=="}'))), ['data_base64'])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent(ct, body('[1]'))), [''])
  assert.deepEqual(fieldsOf(() => receiveCloudEvent(ct, body('{"specversion":"1.0","id":"1","source":"s","type":"t","ext":{"a":1}}'))), ['ext'])
  assert.throws(() => receiveCloudEvent(ct, body('{not json')), BadRequestError)
})

test('batched mode and structured formats other than JSON are refused as bad requests', () => {
  assert.throws(() => receiveCloudEvent({ 'content-type': 'application/cloudevents-batch+json' }, body('[]')), BadRequestError)
  assert.throws(() => receiveCloudEvent({ 'content-type': 'application/cloudevents+avro' }, body('')), BadRequestError)
})

test('delivery headers: ce-* per attribute, Content-Type for the data, values percent-encoded', () => {
  assert.deepEqual(cloudEventHeaders({
    specversion: '1.0', id: 'a b', source: '/s', type: 't', datacontenttype: 'text/plain', subject: 'café "x" 100%', extensions: { attempt: 2 }
  }), {
    'ce-specversion': '1.0', 'ce-id': 'a%20b', 'ce-source': '/s', 'ce-type': 't', 'content-type': 'text/plain',
    'ce-subject': 'caf%C3%A9%20%22x%22%20100%25', 'ce-attempt': '2'
  })
  assert.equal(percentEncode('plain-value/1'), 'plain-value/1')
})

test('headers produced for an event read back to the same attributes (round trip)', () => {
  const attributes = {
    specversion: '1.0' as const, id: 'ïd 1', source: '/namespaces/shop/queues/orders', type: 'dev.roost.queue.message',
    datacontenttype: 'application/json', time: '2025-01-01T00:00:00.000Z', subject: 'ü', extensions: { region: 'eu west' }
  }
  assert.deepEqual(receiveCloudEvent(cloudEventHeaders(attributes), body('{}'))?.attributes, attributes)
})

test('a record is a CloudEvent: its id, source, type, time of publish and attributes as extensions', () => {
  assert.deepEqual(recordCloudEvent({
    id: 'r1', source: '/namespaces/shop/queues/orders', type: 'dev.roost.queue.message', subject: undefined,
    contentType: 'application/json', attributes: { region: 'eu' }, createdAt: Date.UTC(2025, 0, 1)
  }), {
    specversion: '1.0', id: 'r1', source: '/namespaces/shop/queues/orders', type: 'dev.roost.queue.message',
    datacontenttype: 'application/json', time: '2025-01-01T00:00:00.000Z', extensions: { region: 'eu' }
  })
})
