import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { AsyncInvocationRequest, ControlAnswer } from '../../src/gateway/index.js'
import { AsyncInvocations, asyncQueueName, readStoredRequest, type DestinationOutcome, type ResultDestinations } from '../../src/invocations/index.js'
import type { EventStore, LeasedRecord } from '../../src/events/index.js'
import { openFixture, type Fixture } from '../events/event-store-fixture.js'

// Async calls on the control plane: stored as invocation records, answered
// 202 with where the result will be, or with the result when the caller waits
// and the record settles in time.

const LEASE = { max: 1, leaseMs: 30_000, consumer: 'instance-1' }

function call (overrides: Partial<AsyncInvocationRequest> = {}): AsyncInvocationRequest {
  return {
    namespace: 'shop',
    function: 'cart',
    method: 'POST',
    path: '/checkout?x=1',
    headers: [['content-type', 'application/json'], ['x-custom', 'a'], ['x-custom', 'b']],
    body: Buffer.from('{"items":3}'),
    callbackUrl: 'http://127.0.0.1:9/cb',
    caller: 'key:abc',
    requestId: 'submit-1',
    waitMs: 0,
    ...overrides
  }
}

function leaseOne (store: EventStore): LeasedRecord {
  const [record] = store.lease('shop', asyncQueueName('cart'), LEASE)
  assert.ok(record !== undefined, 'the invocation is due')
  return record
}

function json (answer: ControlAnswer): any {
  return JSON.parse(Buffer.from(answer.body ?? '').toString())
}

test('a call is stored as an invocation record in the function\'s async queue and answered 202 with Location and X-Call-Id', async (t) => {
  const { store } = openFixture(t)
  const submitted: string[] = []
  const invocations = new AsyncInvocations(store, { onSubmitted: (ns, queue) => submitted.push(`${ns}/${queue}`) })
  t.after(() => invocations.close())
  const answer = await invocations.submit(call())
  assert.equal(answer.status, 202)
  const id = answer.headers?.['x-call-id'] as string
  assert.equal(answer.headers?.location, `/apis/roost.dev/v1/namespaces/shop/invocations/${id}`)
  assert.deepEqual(json(answer), { id, status: 'queued', location: answer.headers?.location })
  assert.deepEqual(submitted, ['shop/async.cart'])
  const record = store.get(id)
  assert.deepEqual([record?.kind, record?.queue, record?.maxAttempts, record?.source, record?.subject], ['invocation', 'async.cart', 3, '/namespaces/shop/functions/cart', '/checkout'])
  assert.deepEqual(readStoredRequest(record?.body ?? new Uint8Array()), {
    v: 1,
    function: 'cart',
    method: 'POST',
    path: '/checkout?x=1',
    headers: [['content-type', 'application/json'], ['x-custom', 'a'], ['x-custom', 'b']],
    body: Buffer.from('{"items":3}').toString('base64'),
    callbackUrl: 'http://127.0.0.1:9/cb',
    caller: 'key:abc',
    requestId: 'submit-1'
  })
})

test('a caller that waits gets the function\'s stored response once the record succeeds', async (t) => {
  const { store } = openFixture(t)
  const invocations = new AsyncInvocations(store)
  t.after(() => invocations.close())
  const waiting = invocations.submit(call({ waitMs: 30_000 }))
  const lease = leaseOne(store)
  store.ack(lease, { response: { status: 201, headers: { 'content-type': 'text/plain', 'content-length': '4', 'x-made': 'yes' }, body: 'made' } })
  invocations.settled(lease.id)
  const answer = await waiting
  assert.equal(answer.status, 201)
  assert.equal(Buffer.from(answer.body ?? '').toString(), 'made')
  assert.deepEqual(answer.headers, { 'content-type': 'text/plain', 'x-made': 'yes', location: `/apis/roost.dev/v1/namespaces/shop/invocations/${lease.id}`, 'x-call-id': lease.id })
})

test('a waiting caller whose record settles without `settled` being called is answered all the same (it looks)', async (t) => {
  const { store } = openFixture(t)
  const invocations = new AsyncInvocations(store, { pollMs: 5 })
  t.after(() => invocations.close())
  const waiting = invocations.submit(call({ waitMs: 30_000 }))
  store.ack(leaseOne(store), { response: { status: 200, body: 'done' } })
  assert.equal(Buffer.from((await waiting).body ?? '').toString(), 'done')
})

test('a wait that runs out is answered 202 with the status then', async (t) => {
  const { store } = openFixture(t)
  const invocations = new AsyncInvocations(store, { pollMs: 5 })
  t.after(() => invocations.close())
  const waiting = invocations.submit(call({ waitMs: 20 }))
  leaseOne(store)
  const answer = await waiting
  assert.equal(answer.status, 202)
  assert.equal(json(answer).status, 'running')
})

test('every attempt failing answers a waiting caller 502 ROOST_E_INVOCATION_FAILED with the last status and error', async (t) => {
  const { store, clock } = openFixture(t)
  const invocations = new AsyncInvocations(store)
  t.after(() => invocations.close())
  const waiting = invocations.submit(call({ waitMs: 30_000 }))
  let id = ''
  for (let attempt = 1; attempt <= 3; attempt++) {
    const lease = leaseOne(store)
    id = lease.id
    assert.equal(lease.attempt, attempt)
    store.fail(lease, 'error', { status: 500, error: `boom ${attempt}` })
    invocations.settled(id)
    clock.advance(60_000)
  }
  const answer = await waiting
  assert.equal(answer.status, 502)
  const problem = json(answer)
  assert.equal(problem.code, 'ROOST_E_INVOCATION_FAILED')
  assert.match(problem.detail, /failed after 3 attempts \(last status 500\): boom 3/)
  assert.equal(store.get(id)?.state, 'dead')
})

test('a call cancelled while its caller waits is answered 409', async (t) => {
  const { store } = openFixture(t)
  const invocations = new AsyncInvocations(store)
  t.after(() => invocations.close())
  const waiting = invocations.submit(call({ waitMs: 30_000 }))
  const [record] = store.list('shop', 'async.cart')
  assert.equal(store.cancel(record?.id as string), 'cancelled')
  invocations.settled(record?.id as string)
  assert.equal((await waiting).status, 409)
})

test('an Idempotency-Key makes a repeated call the same invocation', async (t) => {
  const { store } = openFixture(t)
  const submitted: string[] = []
  const invocations = new AsyncInvocations(store, { onSubmitted: (ns, q) => submitted.push(q) })
  t.after(() => invocations.close())
  const headers: Array<[string, string]> = [['Idempotency-Key', 'order-7']]
  const first = await invocations.submit(call({ headers }))
  const again = await invocations.submit(call({ headers }))
  assert.equal(again.headers?.['x-call-id'], first.headers?.['x-call-id'])
  assert.equal(store.list('shop', 'async.cart').length, 1)
  assert.equal(submitted.length, 1)
})

test('closing answers every waiting caller with the status now', async (t) => {
  const { store } = openFixture(t)
  const invocations = new AsyncInvocations(store)
  const waiting = invocations.submit(call({ waitMs: 30_000 }))
  await invocations.close()
  assert.equal((await waiting).status, 202)
  assert.equal((await invocations.submit(call({ waitMs: 30_000 }))).status, 202, 'once closed, nobody waits')
})

test('a refused call is answered with its problem (an async body over the queue\'s limit: 413)', async (t) => {
  const { store } = openFixture(t)
  const invocations = new AsyncInvocations(store)
  t.after(() => invocations.close())
  const answer = await invocations.submit(call({ body: Buffer.alloc(2 * 1024 * 1024) }))
  assert.equal(answer.status, 413)
  assert.equal(json(answer).code, 'ROOST_E_PAYLOAD_TOO_LARGE')
  assert.equal(json(answer).requestId, 'submit-1')
})

// ---- spec.async destinations

interface DestinationHarness {
  store: EventStore
  invocations: AsyncInvocations
  outcomes: DestinationOutcome[]
  submitted: string[]
}

function withDestinations (t: TestContext, specs: Record<string, ResultDestinations | undefined>): DestinationHarness & { clock: Fixture['clock'] } {
  const { store, clock } = openFixture(t)
  const outcomes: DestinationOutcome[] = []
  const submitted: string[] = []
  const invocations = new AsyncInvocations(store, {
    onSubmitted: (ns, queue) => submitted.push(`${ns}/${queue}`),
    functionOf: (ns, name) => ns === 'shop' && name in specs ? { async: specs[name] } : undefined,
    onDestination: (outcome) => outcomes.push(outcome)
  })
  t.after(() => invocations.close())
  return { store, clock, invocations, outcomes, submitted }
}

function bodyJson (body: Uint8Array): any {
  return JSON.parse(Buffer.from(body).toString())
}

test('a succeeded call with onSuccess: { queue } publishes its result (the callback JSON) into that queue, and says so', async (t) => {
  const h = withDestinations(t, { cart: { onSuccess: { queue: 'results' } } })
  h.store.declareQueue('shop', 'results', {})
  const answer = await h.invocations.submit(call({ callbackUrl: undefined }))
  const id = answer.headers?.['x-call-id'] as string
  h.store.ack(leaseOne(h.store), { response: { status: 201, headers: { 'x-made': 'yes' }, body: 'made' } })
  h.invocations.settled(id)
  h.invocations.settled(id)
  const messages = h.store.list('shop', 'results')
  assert.equal(messages.length, 1, 'a settlement told twice is one message')
  const [message] = messages
  assert.deepEqual([message?.type, message?.source, message?.subject, message?.attributes], ['dev.roost.async.succeeded', '/namespaces/shop/functions/cart', id, { hops: '1' }])
  const result = bodyJson(message?.body ?? new Uint8Array())
  assert.deepEqual([result.callId, result.status, result.statusCode, result.headers, result.body, result.attempts], [id, 'succeeded', 201, { 'x-made': 'yes' }, 'made', 1])
  assert.deepEqual(h.submitted, ['shop/async.cart', 'shop/results'])
  assert.deepEqual(h.outcomes.map((o) => [o.callId, o.destination, o.delivered]), [[id, 'queue shop/results', true], [id, 'queue shop/results', true]])
})

test('a failed call with onFailure: { function } becomes that function\'s async call: POST / with the result as JSON, ce-* of the result, one hop deep', async (t) => {
  const h = withDestinations(t, { cart: { onFailure: { function: 'audit' } }, audit: undefined })
  const answer = await h.invocations.submit(call({ callbackUrl: undefined }))
  const id = answer.headers?.['x-call-id'] as string
  for (let attempt = 1; attempt <= 3; attempt++) {
    h.store.fail(leaseOne(h.store), 'error', { status: 500, error: `boom ${attempt}` })
    h.clock.advance(60_000)
  }
  h.invocations.settled(id)
  const [record] = h.store.list('shop', asyncQueueName('audit'))
  assert.deepEqual([record?.kind, record?.attributes], ['invocation', { hops: '1' }])
  const stored = readStoredRequest(record?.body ?? new Uint8Array())
  assert.deepEqual([stored?.function, stored?.method, stored?.path, stored?.caller, stored?.callbackUrl], ['audit', 'POST', '/', 'fn:shop/cart', null])
  const headers = new Map(stored?.headers)
  assert.deepEqual([headers.get('content-type'), headers.get('ce-type'), headers.get('ce-id'), headers.get('ce-subject')], ['application/json', 'dev.roost.async.failed', `${id}/result`, id])
  const result = bodyJson(Buffer.from(stored?.body ?? '', 'base64'))
  assert.deepEqual([result.callId, result.status, result.statusCode, result.attempts, result.error], [id, 'failed', 500, 3, 'boom 3'])
  assert.deepEqual(h.submitted, ['shop/async.cart', 'shop/async.audit'])
})

test('a result for a queue no function declares, or a function that does not exist, is dropped and reported with the reason', async (t) => {
  const h = withDestinations(t, { cart: { onSuccess: { queue: 'nowhere' }, onFailure: { function: 'ghost' } } })
  const first = (await h.invocations.submit(call({ callbackUrl: undefined }))).headers?.['x-call-id'] as string
  h.store.ack(leaseOne(h.store), { response: { status: 200, body: '' } })
  h.invocations.settled(first)
  const second = (await h.invocations.submit(call({ callbackUrl: undefined, headers: [['idempotency-key', 'two']] }))).headers?.['x-call-id'] as string
  const lease = leaseOne(h.store)
  h.store.deadLetter(lease, 'refused', { status: 400 })
  h.invocations.settled(second)
  assert.deepEqual(h.outcomes.map((o) => [o.callId, o.destination, o.delivered]), [[first, 'queue shop/nowhere', false], [second, 'function shop/ghost', false]])
  assert.match(h.outcomes[0]?.reason ?? '', /no function of namespace shop declares queue nowhere/)
  assert.match(h.outcomes[1]?.reason ?? '', /there is no function ghost in namespace shop/)
  assert.equal(h.store.queuePolicy('shop', asyncQueueName('ghost')), undefined, 'no async queue is made for a function that is not there')
})

test('two functions naming each other stop after 3 hops: the third delivery\'s result goes nowhere, reported as too deep', async (t) => {
  const h = withDestinations(t, { ping: { onSuccess: { function: 'pong' } }, pong: { onSuccess: { function: 'ping' } } })
  await h.invocations.submit(call({ function: 'ping', callbackUrl: undefined }))
  const chain: string[] = []
  for (let step = 0; step < 5; step++) {
    const fn = step % 2 === 0 ? 'ping' : 'pong'
    const [lease] = h.store.lease('shop', asyncQueueName(fn), LEASE)
    if (lease === undefined) break
    chain.push(`${fn}@${lease.attributes.hops ?? '0'}`)
    h.store.ack(lease, { response: { status: 200, body: 'ok' } })
    h.invocations.settled(lease.id)
  }
  assert.deepEqual(chain, ['ping@0', 'pong@1', 'ping@2', 'pong@3'])
  assert.deepEqual(h.outcomes.map((o) => o.delivered), [true, true, true, false])
  assert.match(h.outcomes[3]?.reason ?? '', /3 hops deep \(at most 3\)/)
})
