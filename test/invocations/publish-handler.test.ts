import assert from 'node:assert/strict'
import { test } from 'node:test'
import { answerPublish } from '../../src/invocations/index.js'
import type { ControlAnswer, PublishRequest } from '../../src/gateway/index.js'
import { openFixture } from '../events/event-store-fixture.js'

// A function's publish as the control plane answers it: written, or refused
// with the status and problem the gateway passes on.

const request = (messages: unknown[], queue = 'orders'): PublishRequest => ({ namespace: 'shop', queue, caller: 'fn:shop/cart', messages, requestId: 'r-1' })

function bodyOf (answer: ControlAnswer): any {
  return JSON.parse(String(answer.body))
}

test('messages are written in the caller\'s namespace and answered 201 with a result each; the dispatcher hears of the queue', (t) => {
  const { store } = openFixture(t)
  store.declareQueue('shop', 'orders')
  const heard: string[] = []
  const answer = answerPublish(store, request([
    { body: { order: 1 }, key: 'o-1', attributes: { region: 'eu' } },
    { body: 'plain', bodyType: 'text', delayMs: 1000 },
    { body: Buffer.from([0, 1, 2]).toString('base64'), bodyType: 'bytes', subject: 'raw' }
  ]), { onPublished: (namespace, queue) => heard.push(`${namespace}/${queue}`) })
  assert.equal(answer.status, 201)
  const { results } = bodyOf(answer) as { results: Array<{ id: string, outcome: string }> }
  assert.deepEqual(results.map((r) => r.outcome), ['created', 'created', 'created'])
  assert.deepEqual(heard, ['shop/orders'])
  const [json, text, bytes] = results.map((r) => store.get(r.id))
  assert.deepEqual([json?.bodyType, Buffer.from(json?.body ?? []).toString(), json?.key, json?.attributes], ['json', '{"order":1}', 'o-1', { region: 'eu' }])
  assert.deepEqual([text?.bodyType, Buffer.from(text?.body ?? []).toString(), (text?.notBefore ?? 0) - (text?.createdAt ?? 0)], ['text', 'plain', 1000])
  assert.deepEqual([bytes?.bodyType, [...(bytes?.body ?? [])], bytes?.subject], ['bytes', [0, 1, 2], 'raw'])
})

test('a duplicate key is answered as a duplicate and does not wake the dispatcher', (t) => {
  const { store } = openFixture(t)
  store.declareQueue('shop', 'orders')
  answerPublish(store, request([{ body: 1, key: 'k' }]))
  const heard: string[] = []
  const answer = answerPublish(store, request([{ body: 2, key: 'k' }]), { onPublished: (ns, q) => heard.push(q) })
  assert.equal(answer.status, 201)
  assert.equal(bodyOf(answer).results[0].outcome, 'duplicate')
  assert.deepEqual(heard, [])
})

test('an undeclared queue is 404, a full one 429 with Retry-After, an async.* queue and bad messages 422 naming every field', (t) => {
  const { store } = openFixture(t)
  const unknown = answerPublish(store, request([{ body: 1 }], 'nowhere'))
  assert.equal(unknown.status, 404)
  assert.equal(bodyOf(unknown).code, 'ROOST_E_NOT_FOUND')
  assert.equal(bodyOf(unknown).requestId, 'r-1')

  store.declareQueue('shop', 'small', { maxDepth: 1, fullRetryAfterMs: 3000 })
  assert.equal(answerPublish(store, request([{ body: 1 }], 'small')).status, 201)
  const full = answerPublish(store, request([{ body: 2 }], 'small'))
  assert.equal(full.status, 429)
  assert.equal(full.headers?.['retry-after'], '3')
  assert.equal(bodyOf(full).code, 'ROOST_E_QUEUE_FULL')

  store.declareQueue('shop', 'async.cart')
  const internal = answerPublish(store, request([{ body: 1 }], 'async.cart'))
  assert.equal(internal.status, 422)
  assert.equal(bodyOf(internal).field, 'queue')

  store.declareQueue('shop', 'orders')
  const bad = answerPublish(store, request([{ bodyType: 'json' }, 'not an object', { body: 1, bodyType: 'xml' }, { body: '%%%', bodyType: 'bytes' }, { body: 1, delayMs: '1s' }]))
  assert.equal(bad.status, 422)
  assert.deepEqual(bodyOf(bad).errors.map((e: { field: string }) => e.field), ['messages[0].body', 'messages[1]', 'messages[2].bodyType', 'messages[3].body', 'messages[4].delayMs'])
  assert.equal(answerPublish(store, request([])).status, 422)
  assert.equal(store.stats('shop', 'orders').waiting, 0, 'a refused batch writes nothing')
})

test('a record the events part refuses (an attribute name CloudEvents does not allow) is 422 with its field', (t) => {
  const { store } = openFixture(t)
  store.declareQueue('shop', 'orders')
  const answer = answerPublish(store, request([{ body: 1, attributes: { 'Not-Valid': 'x' } }]))
  assert.equal(answer.status, 422)
  assert.match(bodyOf(answer).errors[0].field, /attributes\.Not-Valid/)
})
