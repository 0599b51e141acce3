import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inFlightLimit, nextBatchSize, queueDeliveryBody, scheduledDeliveryBody } from '../../src/dispatch/index.js'
import type { LeasedRecord } from '../../src/events/index.js'
import { encodeBody } from '../../src/events/index.js'

function leased (id: string, body: unknown, extra: Partial<LeasedRecord> = {}): LeasedRecord {
  const { bytes, type } = encodeBody(body)
  return {
    id, kind: 'message', namespace: 'shop', queue: 'orders', token: 1, attempt: 2, maxAttempts: 5, body: bytes, bodyType: type,
    source: '/namespaces/shop/queues/orders', type: 'dev.roost.queue.message', subject: undefined, contentType: 'application/json',
    attributes: { region: 'eu' }, createdAt: 1_700_000_000_000, leaseExpiresAt: 0, ...extra
  }
}

/** What the runtime reads a delivery as: each message with the shared fields it does not have itself. */
function expanded (text: Buffer): { queue: string, messages: Array<Record<string, unknown>> } {
  const { queue, shared, messages } = JSON.parse(text.toString('utf8')) as { queue: string, shared?: Record<string, unknown>, messages: Array<Record<string, unknown>> }
  return { queue, messages: messages.map((m) => ({ ...shared, ...m })) }
}

test('a queue delivery carries each message with its body as JSON, text or base64, as the contract says', () => {
  const text = queueDeliveryBody('orders', [
    leased('a', { order: 1, items: ['x'] }),
    leased('b', 'plain "text"', { subject: 'order-2' }),
    leased('c', new Uint8Array([0, 255, 7]))
  ])
  const common = { attributes: { region: 'eu' }, attempt: 2, maxAttempts: 5, source: '/namespaces/shop/queues/orders', type: 'dev.roost.queue.message', contentType: 'application/json', createdAt: 1_700_000_000_000 }
  assert.deepEqual(expanded(text), {
    queue: 'orders',
    messages: [
      { id: 'a', body: { order: 1, items: ['x'] }, bodyType: 'json', ...common },
      { id: 'b', body: 'plain "text"', bodyType: 'text', ...common, subject: 'order-2' },
      { id: 'c', body: 'AP8H', bodyType: 'bytes', ...common }
    ]
  })
})

test('the fields every message of a batch has alike are written once, in shared; the others stay with their message', () => {
  const same = queueDeliveryBody('orders', [leased('a', 1, { attributes: {} }), leased('b', 2, { attributes: {} })])
  assert.deepEqual(JSON.parse(same.toString('utf8')), {
    queue: 'orders',
    shared: { bodyType: 'json', attributes: {}, maxAttempts: 5, source: '/namespaces/shop/queues/orders', type: 'dev.roost.queue.message', contentType: 'application/json' },
    messages: [
      { id: 'a', body: 1, attempt: 2, createdAt: 1_700_000_000_000 },
      { id: 'b', body: 2, attempt: 2, createdAt: 1_700_000_000_000 }
    ]
  })
  const mixed = queueDeliveryBody('orders', [
    leased('a', 1, { attributes: {}, subject: 's' }),
    leased('b', 'two', { attributes: { k: 'v' }, subject: 's', maxAttempts: 3, source: '/other', type: 't', contentType: 'text/plain' })
  ])
  assert.deepEqual(JSON.parse(mixed.toString('utf8')), {
    queue: 'orders',
    shared: { subject: 's' },
    messages: [
      { id: 'a', body: 1, attempt: 2, createdAt: 1_700_000_000_000, bodyType: 'json', attributes: {}, maxAttempts: 5, source: '/namespaces/shop/queues/orders', type: 'dev.roost.queue.message', contentType: 'application/json' },
      { id: 'b', body: 'two', attempt: 2, createdAt: 1_700_000_000_000, bodyType: 'text', attributes: { k: 'v' }, maxAttempts: 3, source: '/other', type: 't', contentType: 'text/plain' }
    ]
  }, 'attributes are shared only when every message has none; a subject only when every message has the same one')
  const lone = JSON.parse(queueDeliveryBody('orders', [leased('a', 1)]).toString('utf8')) as Record<string, unknown>
  assert.equal('shared' in lone, false, 'a single message is written whole')
  const someSubject = JSON.parse(queueDeliveryBody('orders', [leased('a', 1), leased('b', 2, { subject: 's' })]).toString('utf8')) as { shared: Record<string, unknown>, messages: Array<Record<string, unknown>> }
  assert.equal('subject' in someSubject.shared, false)
  assert.equal('subject' in (someSubject.messages[0] as Record<string, unknown>), false)
  assert.equal((someSubject.messages[1] as Record<string, unknown>).subject, 's')
})

test('a queue delivery is byte for byte what JSON.stringify writes, escapes and all', () => {
  const awkward = 'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f é 日本 🦉 lone \ud800'
  const records = [
    leased(awkward, awkward, { subject: awkward, source: awkward, type: 'a/b', contentType: 'text/plain; charset=utf-8', attributes: { [awkward]: awkward, plain: 'x', '1': 'numeric key first' } }),
    leased('b', new Uint8Array(300).map((_, i) => i), { attributes: {}, attempt: 1, maxAttempts: 1, createdAt: 0 }),
    leased('c', 'plain ascii text', { queue: 'q' }),
    leased('d', ['canonical', 1, { json: true }])
  ]
  const expected = JSON.stringify({
    queue: 'or"ders',
    messages: records.map((r) => ({
      id: r.id,
      body: r.bodyType === 'json' ? JSON.parse(Buffer.from(r.body).toString('utf8')) : r.bodyType === 'text' ? Buffer.from(r.body).toString('utf8') : Buffer.from(r.body).toString('base64'),
      attempt: r.attempt, createdAt: r.createdAt,
      bodyType: r.bodyType, attributes: r.attributes, maxAttempts: r.maxAttempts, source: r.source, type: r.type,
      ...(r.subject === undefined ? {} : { subject: r.subject }), contentType: r.contentType
    }))
  })
  // Nothing is alike in every one of these: each message is written whole, and there is no shared.
  assert.equal(queueDeliveryBody('or"ders', records).toString('utf8'), expected)
  assert.equal(queueDeliveryBody('empty', []).toString('utf8'), '{"queue":"empty","messages":[]}')
  // Attributes are strings by contract; one that is not is written as JSON.stringify writes it (undefined left out), never thrown on.
  const odd = leased('e', 'x', { attributes: { kept: 'yes', gone: undefined as unknown as string, n: 5 as unknown as string } })
  assert.deepEqual(JSON.parse(queueDeliveryBody('q', [odd]).toString('utf8')).messages[0].attributes, { kept: 'yes', n: 5 })
})

test('a scheduled delivery is the firing\'s stored body with the record id added', () => {
  const firing = leased('cron:shop/report.0@2025-01-01T00:00:00.000Z', { trigger: 'report.0', cron: '@hourly', timezone: 'UTC', scheduledTime: 1_735_689_600_000 })
  assert.deepEqual(JSON.parse(scheduledDeliveryBody(firing)), { trigger: 'report.0', cron: '@hourly', timezone: 'UTC', scheduledTime: 1_735_689_600_000, id: 'cron:shop/report.0@2025-01-01T00:00:00.000Z' })
})

test('in flight: max(1, ready instances) × per instance, and a batch never takes more than the room left', () => {
  assert.equal(inFlightLimit(0, 10), 10, 'at zero one instance\'s worth goes out to start one')
  assert.equal(inFlightLimit(3, 10), 30)
  assert.equal(inFlightLimit(2, 2.5), 6, 'a fractional target rounds up')
  assert.equal(nextBatchSize(10, 30, 25), 5)
  assert.equal(nextBatchSize(10, 30, 0), 10)
  assert.equal(nextBatchSize(10, 30, 30), 0)
  assert.equal(nextBatchSize(10, 30, 35), 0, 'fewer instances than before: nothing more until deliveries settle')
})
