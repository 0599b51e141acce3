import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ValidationError } from '../../src/errors/index.js'
import type { OutgoingMessage } from '../../src/connectors/index.js'
import {
  attemptFromHeader, brokerSource, detectBodyType, FOREIGN_MESSAGE_TYPE, incomingAttributes, MESSAGE_HEADERS, messageHeaders
} from '../../src/connectors/index.js'
import { incomingMessage } from '../../src/connectors/message-attributes.js'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const ORIGIN = { kind: 'redis', queue: 'orders', brokerId: '1717000000000-0' } as const

function outgoing (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: 'm-1',
    body: utf8('{"n":1}'),
    bodyType: 'json',
    source: '/namespaces/shop/functions/checkout',
    type: 'shop.order.placed',
    subject: 'order 42',
    contentType: 'application/json',
    attributes: { tenant: 'acme', traceparent: '00-abc-01' },
    ...overrides
  }
}

describe('messageHeaders: a message\'s attributes as broker headers', () => {
  test('carries every attribute in CloudEvents binary-mode names, with Roost\'s body type', () => {
    assert.deepEqual(messageHeaders(outgoing()), {
      'ce-specversion': '1.0',
      'ce-id': 'm-1',
      'ce-source': '/namespaces/shop/functions/checkout',
      'ce-type': 'shop.order.placed',
      'ce-subject': 'order%2042',
      'content-type': 'application/json',
      'x-roost-body-type': 'json',
      'ce-tenant': 'acme',
      'ce-traceparent': '00-abc-01'
    })
  })

  test('a message without a subject has no ce-subject', () => {
    assert.equal(MESSAGE_HEADERS.subject in messageHeaders(outgoing({ subject: undefined })), false)
  })

  test('percent-encodes values, so a line break or a non-ASCII letter cannot break a header line', () => {
    const headers = messageHeaders(outgoing({ attributes: { note: 'a\r\nb é "x" 100%' } }))
    assert.equal(headers['ce-note'], 'a%0D%0Ab%20%C3%A9%20%22x%22%20100%25')
  })

  test('refuses an attribute name that would collide with a CloudEvents attribute, or is not an extension name', () => {
    assert.throws(() => messageHeaders(outgoing({ attributes: { id: 'other' } })), (err: unknown) =>
      err instanceof ValidationError && err.errors[0]?.field === 'attributes.id')
    assert.throws(() => messageHeaders(outgoing({ attributes: { 'Bad-Name': 'x' } })), ValidationError)
  })

  test('refuses a content type with a line break', () => {
    assert.throws(() => messageHeaders(outgoing({ contentType: 'text/plain\r\nx-evil: 1' })), ValidationError)
  })
})

describe('incomingAttributes: a received message\'s attributes', () => {
  test('what messageHeaders wrote reads back the same', () => {
    const message = outgoing({ attributes: { note: 'a\r\nb é "x" 100%', tenant: 'acme' } })
    assert.deepEqual(incomingAttributes(messageHeaders(message), message.body, ORIGIN), {
      id: message.id,
      source: message.source,
      type: message.type,
      subject: message.subject,
      contentType: message.contentType,
      bodyType: 'json',
      attributes: message.attributes
    })
  })

  test('incomingMessage is the message with those attributes, its body, attempt and time, in the one shape every connector hands out', () => {
    const message = outgoing({ attributes: { tenant: 'acme' } })
    const received = incomingMessage(messageHeaders(message), message.body, ORIGIN, 3, 1717000000123)
    assert.deepEqual(Object.keys(received), ['id', 'attempt', 'body', 'bodyType', 'source', 'type', 'subject', 'contentType', 'attributes', 'publishedAt'])
    assert.deepEqual(received, { ...incomingAttributes(messageHeaders(message), message.body, ORIGIN), attempt: 3, body: message.body, publishedAt: 1717000000123 })
  })

  test('a message a broker\'s own client published with no headers gets derived attributes', () => {
    assert.deepEqual(incomingAttributes(undefined, utf8('{"order":42}'), ORIGIN), {
      id: '1717000000000-0',
      source: '/brokers/redis/orders',
      type: FOREIGN_MESSAGE_TYPE,
      subject: undefined,
      contentType: 'application/json',
      bodyType: 'json',
      attributes: {}
    })
    assert.equal(brokerSource({ kind: 'nats', queue: 'ORDERS' }), '/brokers/nats/ORDERS')
  })

  test('header names are matched in any case, and values may be bytes, numbers or lists', () => {
    const read = incomingAttributes({
      'CE-ID': Buffer.from('abc'),
      'Ce-Type': ['first.type', 'second.type'],
      'ce-count': 3,
      'Content-Type': 'text/plain'
    }, utf8('hello'), ORIGIN)
    assert.equal(read.id, 'abc')
    assert.equal(read.type, 'first.type')
    assert.deepEqual(read.attributes, { count: '3' })
    assert.equal(read.bodyType, 'text')
    assert.equal(read.contentType, 'text/plain')
  })

  test('garbage in the headers is replaced or left out, never thrown', () => {
    const read = incomingAttributes({
      'ce-id': '',
      'ce-source': 'x'.repeat(5000),
      'ce-type': { not: 'text' },
      'ce-subject': '%E0%A4%A',
      'ce-Bad_Name': 'x',
      'ce-specversion': '0.3',
      'ce-time': '2025-01-01T00:00:00Z',
      'ce-huge': 'y'.repeat(5000),
      'ce-fine': 'ok',
      'x-roost-body-type': 'something'
    }, new Uint8Array([0xff, 0xfe, 0x00]), ORIGIN)
    assert.deepEqual(read, {
      id: ORIGIN.brokerId,
      source: '/brokers/redis/orders',
      type: FOREIGN_MESSAGE_TYPE,
      subject: '%E0%A4%A',
      contentType: 'application/octet-stream',
      bodyType: 'bytes',
      attributes: { fine: 'ok' }
    })
  })

  test('at most as many extensions as a record can hold are kept', () => {
    const headers: Record<string, string> = {}
    for (let i = 0; i < 40; i++) headers[`ce-a${i}`] = String(i)
    assert.equal(Object.keys(incomingAttributes(headers, utf8('x'), ORIGIN).attributes).length, 32)
  })

  test('ce-datacontenttype stands in for a missing content-type', () => {
    const read = incomingAttributes({ 'ce-datacontenttype': 'application/cloudevents+json' }, utf8('{}'), ORIGIN)
    assert.equal(read.contentType, 'application/cloudevents+json')
    assert.equal(read.bodyType, 'json')
  })
})

describe('detectBodyType: what the bytes are', () => {
  test('no content type: json when the bytes parse, else text when UTF-8, else bytes', () => {
    assert.equal(detectBodyType(utf8('[1,2]'), undefined), 'json')
    assert.equal(detectBodyType(utf8('"quoted"'), undefined), 'json')
    assert.equal(detectBodyType(utf8('not json'), undefined), 'text')
    assert.equal(detectBodyType(utf8(''), undefined), 'text')
    assert.equal(detectBodyType(new Uint8Array([0xc3, 0x28]), undefined), 'bytes')
  })

  test('a JSON content type (with parameters, or a +json suffix) still needs bytes that parse', () => {
    assert.equal(detectBodyType(utf8('{"a":1}'), 'application/json; charset=utf-8'), 'json')
    assert.equal(detectBodyType(utf8('{"a":1}'), 'application/vnd.shop+json'), 'json')
    assert.equal(detectBodyType(utf8('{"a":'), 'application/json'), 'text')
  })

  test('another content type: text when UTF-8, bytes when not; octet-stream is always bytes', () => {
    assert.equal(detectBodyType(utf8('{"a":1}'), 'text/plain'), 'text')
    assert.equal(detectBodyType(utf8('<a/>'), 'application/xml'), 'text')
    assert.equal(detectBodyType(new Uint8Array([0xff]), 'text/plain'), 'bytes')
    assert.equal(detectBodyType(utf8('hello'), 'application/octet-stream'), 'bytes')
  })

  test('a declared type is kept when the bytes bear it out, and falls back when they do not', () => {
    assert.equal(detectBodyType(utf8('{"a":1}'), 'text/plain', 'json'), 'json')
    assert.equal(detectBodyType(utf8('{"a":'), 'application/json', 'json'), 'text')
    assert.equal(detectBodyType(new Uint8Array([0xff]), undefined, 'json'), 'bytes')
    assert.equal(detectBodyType(utf8('{"a":1}'), 'application/json', 'text'), 'text')
    assert.equal(detectBodyType(new Uint8Array([0xff]), undefined, 'text'), 'bytes')
    assert.equal(detectBodyType(utf8('{"a":1}'), 'application/json', 'bytes'), 'bytes')
  })

  test('a JSON-looking body of invalid UTF-8 is not json', () => {
    assert.equal(detectBodyType(new Uint8Array([0x22, 0xff, 0x22]), 'application/json'), 'bytes')
  })
})

describe('attemptFromHeader: the attempt a re-published retry carries', () => {
  test('a whole number from 1 up, as text or bytes', () => {
    assert.equal(attemptFromHeader('3'), 3)
    assert.equal(attemptFromHeader(Buffer.from('12')), 12)
    assert.equal(attemptFromHeader(['2', '5']), 2)
  })

  test('anything else names no attempt', () => {
    for (const value of [undefined, '', '0', '-1', '1.5', '01', 'x', '9999999999', {}]) {
      assert.equal(attemptFromHeader(value), undefined, JSON.stringify(value))
    }
  })
})
