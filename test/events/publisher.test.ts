import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NotFoundError, PayloadTooLargeError, QueueFullError, ValidationError } from '../../src/errors/index.js'
import { decodeBody } from '../../src/events/index.js'
import { LEASE, NS, openFixture, QUEUE } from './event-store-fixture.js'

test('publishing to a queue nobody declared is refused with the queue field', (t) => {
  const { store } = openFixture(t)
  assert.throws(() => store.publishOne(NS, 'nowhere', { body: 1 }), (err: unknown) => err instanceof NotFoundError && err.field === 'queue')
})

test('a published record is ready at once, with its body, attributes and CloudEvents defaults', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const { id, outcome } = store.publishOne(NS, QUEUE, { body: { order: 7 }, attributes: { region: 'eu' } })
  assert.equal(outcome, 'created')
  const record = store.get(id)
  assert.ok(record !== undefined)
  assert.equal(record.state, 'ready')
  assert.equal(record.kind, 'message')
  assert.equal(record.notBefore, clock.time)
  assert.equal(record.attempts, 0)
  assert.equal(record.maxAttempts, 5)
  assert.equal(record.bodyType, 'json')
  assert.deepEqual(decodeBody(record.body, record.bodyType), { order: 7 })
  assert.equal(record.contentType, 'application/json')
  assert.equal(record.source, '/namespaces/shop/queues/orders')
  assert.equal(record.type, 'dev.roost.queue.message')
  assert.deepEqual(record.attributes, { region: 'eu' })
})

test('bodies keep their kind: text, bytes and JSON', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const [text, bytes, json] = store.publish(NS, QUEUE, [{ body: 'hello' }, { body: new Uint8Array([0, 255, 7]) }, { body: [1, 'two'] }])
  const view = (id: string | undefined): unknown => {
    const record = store.get(id as string)
    assert.ok(record !== undefined)
    return [record.bodyType, decodeBody(record.body, record.bodyType)]
  }
  assert.deepEqual(view(text?.id), ['text', 'hello'])
  assert.deepEqual(view(bytes?.id), ['bytes', Buffer.from([0, 255, 7])])
  assert.deepEqual(view(json?.id), ['json', [1, 'two']])
})

test('a delayed record is not leased before its delay has passed', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  store.publishOne(NS, QUEUE, { body: 1, delayMs: 5000 })
  assert.equal(store.lease(NS, QUEUE, LEASE).length, 0)
  assert.equal(store.nextDueAt(NS, QUEUE), clock.time + 5000)
  clock.advance(4999)
  assert.equal(store.lease(NS, QUEUE, LEASE).length, 0)
  clock.advance(1)
  assert.equal(store.lease(NS, QUEUE, LEASE).length, 1)
})

test('a second record with the same key is refused as a duplicate while the first waits, and names the first', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const first = store.publishOne(NS, QUEUE, { body: 'a', key: 'order-1' })
  const second = store.publishOne(NS, QUEUE, { body: 'b', key: 'order-1' })
  assert.deepEqual(second, { id: first.id, outcome: 'duplicate' })
  assert.equal(store.stats(NS, QUEUE).waiting, 1)
  assert.equal(decodeBody(store.get(first.id)?.body as Uint8Array, 'text'), 'a')
})

test('a key stays taken while its record is leased, and after it succeeded until the retention has passed', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE, { retentionMs: 60_000 })
  const first = store.publishOne(NS, QUEUE, { body: 'a', key: 'k' })
  const [lease] = store.lease(NS, QUEUE, LEASE)
  assert.equal(store.publishOne(NS, QUEUE, { body: 'b', key: 'k' }).outcome, 'duplicate')
  clock.advance(10_000)
  store.ack(lease as { id: string, token: number })
  clock.advance(49_999) // 59.999 s after publish
  assert.equal(store.publishOne(NS, QUEUE, { body: 'c', key: 'k' }).outcome, 'duplicate')
  clock.advance(1)
  const third = store.publishOne(NS, QUEUE, { body: 'd', key: 'k' })
  assert.equal(third.outcome, 'created')
  assert.notEqual(third.id, first.id)
  assert.equal(store.get(first.id)?.key, undefined, 'the finished record gave its key up')
  assert.equal(store.get(third.id)?.key, 'k')
})

test('a live record keeps its key past the retention: a waiting message is never duplicated', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE, { retentionMs: 1000 })
  store.publishOne(NS, QUEUE, { body: 'a', key: 'k', delayMs: 10_000 })
  clock.advance(5000)
  assert.equal(store.publishOne(NS, QUEUE, { body: 'b', key: 'k' }).outcome, 'duplicate')
})

test('onDuplicate replace overwrites the waiting record in place: same id, new body and delay, one message', (t) => {
  const { store, clock } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const first = store.publishOne(NS, QUEUE, { body: 'old', key: 'k' })
  clock.advance(100)
  const second = store.publishOne(NS, QUEUE, { body: 'new', key: 'k', onDuplicate: 'replace', delayMs: 50 })
  assert.deepEqual(second, { id: first.id, outcome: 'replaced' })
  const record = store.get(first.id)
  assert.equal(decodeBody(record?.body as Uint8Array, 'text'), 'new')
  assert.equal(record?.notBefore, clock.time + 50)
  assert.equal(store.stats(NS, QUEUE).waiting, 1)
})

test('onDuplicate replace with the holder running publishes a new record; the running one keeps going without the key', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const first = store.publishOne(NS, QUEUE, { body: 'old', key: 'k' })
  const [lease] = store.lease(NS, QUEUE, LEASE)
  const second = store.publishOne(NS, QUEUE, { body: 'new', key: 'k', onDuplicate: 'replace' })
  assert.equal(second.outcome, 'created')
  assert.notEqual(second.id, first.id)
  assert.equal(store.get(first.id)?.state, 'leased')
  assert.equal(store.get(first.id)?.key, undefined)
  assert.equal(store.ack(lease as { id: string, token: number }), 'succeeded')
  assert.deepEqual(store.stats(NS, QUEUE), { namespace: NS, queue: QUEUE, waiting: 1, leased: 0, backlog: 1, dead: 0, lastCompletedAt: store.get(first.id)?.finishedAt })
})

test('an explicit id already used makes the record a duplicate (cron firing ids rely on it)', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  assert.deepEqual(store.publishOne(NS, QUEUE, { body: 1, id: 'fixed' }), { id: 'fixed', outcome: 'created' })
  assert.deepEqual(store.publishOne(NS, QUEUE, { body: 2, id: 'fixed' }), { id: 'fixed', outcome: 'duplicate' })
})

test('a publish that would pass maxDepth is refused whole with 429 and a retry-after; the queue is unchanged', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE, { maxDepth: 3, fullRetryAfterMs: 2500 })
  store.publish(NS, QUEUE, [{ body: 1 }, { body: 2 }])
  assert.throws(() => store.publish(NS, QUEUE, [{ body: 3 }, { body: 4 }]), (err: unknown) => {
    assert.ok(err instanceof QueueFullError)
    assert.equal(err.status, 429)
    assert.equal(err.code, 'ROOST_E_QUEUE_FULL')
    assert.equal(err.retryAfterSeconds, 3)
    return true
  })
  assert.equal(store.stats(NS, QUEUE).waiting, 2)
  assert.equal(store.list(NS, QUEUE).length, 2)
  store.publishOne(NS, QUEUE, { body: 3 })
  assert.equal(store.stats(NS, QUEUE).backlog, 3)
})

test('the depth counts leased records too: a queue full of work in progress refuses more', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE, { maxDepth: 2 })
  store.publish(NS, QUEUE, [{ body: 1 }, { body: 2 }])
  const leased = store.lease(NS, QUEUE, LEASE)
  assert.equal(leased.length, 2)
  assert.throws(() => store.publishOne(NS, QUEUE, { body: 3 }), QueueFullError)
  store.ack(leased[0] as { id: string, token: number })
  assert.equal(store.publishOne(NS, QUEUE, { body: 3 }).outcome, 'created')
})

test('a duplicate is answered even when the queue is full: it adds nothing', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE, { maxDepth: 1 })
  const first = store.publishOne(NS, QUEUE, { body: 1, key: 'k' })
  assert.deepEqual(store.publishOne(NS, QUEUE, { body: 1, key: 'k' }), { id: first.id, outcome: 'duplicate' })
})

test('a body over the queue maximum is refused with 413 and the body field', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE, { maxBodyBytes: 4 })
  assert.equal(store.publishOne(NS, QUEUE, { body: 'four' }).outcome, 'created')
  assert.throws(() => store.publish(NS, QUEUE, [{ body: 'ok' }, { body: 'fives' }]), (err: unknown) =>
    err instanceof PayloadTooLargeError && err.field === 'messages[1].body')
  assert.equal(store.stats(NS, QUEUE).waiting, 1, 'the batch wrote nothing')
})

test('bad delay, key and attribute names are refused with every field named', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  assert.throws(() => store.publishOne(NS, QUEUE, { body: 1, delayMs: -1, key: '', attributes: { OrderId: '1', id: 'x' } }), (err: unknown) => {
    assert.ok(err instanceof ValidationError)
    assert.deepEqual(err.errors.map((e) => e.field), ['key', 'delay', 'attributes.OrderId', 'attributes.id'])
    return true
  })
})

test('per-record maxAttempts overrides the queue policy', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE, { maxAttempts: 5 })
  const { id } = store.publishOne(NS, QUEUE, { body: 1, maxAttempts: 3, kind: 'invocation' })
  assert.equal(store.get(id)?.maxAttempts, 3)
  assert.equal(store.get(id)?.type, 'dev.roost.async.invocation')
})

test('bytes given with their body type are stored as they are, as that type', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
  const [json, text, bytes] = store.publish(NS, QUEUE, [
    { body: utf8('{"n": 1, "big": 12345678901234567890}'), bodyType: 'json' },
    { body: utf8('héllo'), bodyType: 'text' },
    { body: new Uint8Array([0xff, 0]), bodyType: 'bytes' }
  ])
  const stored = (id: string | undefined): [string | undefined, string | undefined] => {
    const record = store.get(id as string)
    return [record?.bodyType, record === undefined ? undefined : Buffer.from(record.body).toString('hex')]
  }
  assert.deepEqual(stored(json?.id), ['json', Buffer.from('{"n": 1, "big": 12345678901234567890}').toString('hex')])
  assert.deepEqual(stored(text?.id), ['text', Buffer.from('héllo').toString('hex')])
  assert.deepEqual(stored(bytes?.id), ['bytes', 'ff00'])
})

test('bytes that are not what their body type says are refused, and the batch writes nothing', (t) => {
  const { store } = openFixture(t)
  store.declareQueue(NS, QUEUE)
  const refused = (body: unknown, bodyType: 'json' | 'text' | 'bytes'): void => {
    assert.throws(() => store.publish(NS, QUEUE, [{ body: 'fine' }, { body, bodyType }]), (err: unknown) =>
      err instanceof ValidationError && err.errors[0]?.field === 'messages[1].body')
  }
  refused(new TextEncoder().encode('{"n":'), 'json')
  refused(new Uint8Array([0x22, 0xff, 0x22]), 'json')
  refused(new Uint8Array([0xc3, 0x28]), 'text')
  refused('a string', 'bytes')
  assert.equal(store.stats(NS, QUEUE).waiting, 0)
})
