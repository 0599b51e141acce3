// The async-invocation routes in process (fastify inject): an invocation with
// its attempts, response and logs; a function's list; cancelling one not yet
// run; confined to the token's namespace.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createApiServer, type ApiServerOptions } from '../../src/api/index.js'
import { EventStore } from '../../src/events/index.js'
import type { AsyncInvocationRequest } from '../../src/gateway/index.js'
import { asyncQueueName, declareAsyncQueue, storedRequestOf } from '../../src/invocations/index.js'
import { Store } from '../../src/store/index.js'

const V1 = '/apis/roost.dev/v1'
const live: ApiServerOptions['live'] = { instances: () => [], serving: () => undefined, scaling: () => undefined, metrics: async () => '', onLogs: () => () => {} }

let dir: string
let store: Store
let events: EventStore
let app: FastifyInstance
let admin: string
let teamA: string

async function call (method: 'GET' | 'DELETE', url: string, token = admin): Promise<{ status: number, json: any }> {
  const response = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` } })
  return { status: response.statusCode, json: response.json() }
}

function invoke (namespace: string, fn: string, body = 'payload'): string {
  const request: AsyncInvocationRequest = {
    namespace, function: fn, method: 'POST', path: '/work?n=1', headers: [['content-type', 'text/plain']], body: Buffer.from(body),
    callbackUrl: 'http://127.0.0.1:9/cb', caller: 'key:k1', requestId: 'submit-1', waitMs: 0
  }
  const queue = declareAsyncQueue(events, namespace, fn)
  return events.publishOne(namespace, queue, { kind: 'invocation', body: storedRequestOf(request) }).id
}

function lease (namespace: string, fn: string): { id: string, token: number } {
  const [record] = events.lease(namespace, asyncQueueName(fn), { max: 1, leaseMs: 30_000, consumer: 'instance-7' })
  assert.ok(record !== undefined)
  return record
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roost-invocations-'))
  store = Store.open(dir)
  events = EventStore.open(dir, { durability: 'normal' })
  admin = store.createToken({ namespace: '*' }).token
  teamA = store.createToken({ namespace: 'team-a' }).token
  app = await createApiServer({ store, live, events })
})

after(async () => {
  await app.close()
  events.close()
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

test('GET …/invocations/ID shows status, attempts, timings, the request, the response and the logs of its attempts', async () => {
  const id = invoke('default', 'orders')
  const held = lease('default', 'orders')
  events.ack(held, { response: { status: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }, initMs: 120 })
  store.appendLogs([
    { time: 1, namespace: 'default', function: 'orders', version: 1, instance: 'instance-7', requestId: id, level: 'info', stream: 'console', message: 'working on it' },
    { time: 2, namespace: 'default', function: 'orders', version: 1, instance: 'instance-7', requestId: 'another', level: 'info', stream: 'console', message: 'not this one' }
  ])
  const { status, json } = await call('GET', `${V1}/namespaces/default/invocations/${id}`)
  assert.equal(status, 200)
  assert.deepEqual([json.id, json.function, json.status, json.attempts, json.maxAttempts, json.timings.coldStartMs], [id, 'orders', 'succeeded', 1, 3, 120])
  assert.equal(typeof json.timings.ranMs, 'number')
  assert.deepEqual(json.request, { method: 'POST', path: '/work?n=1', callbackUrl: 'http://127.0.0.1:9/cb', caller: 'key:k1', requestId: 'submit-1', bodyBytes: 7 })
  assert.deepEqual(json.response, { status: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}', bodyEncoding: 'utf8', truncated: false })
  assert.deepEqual(json.history.map((a: { outcome: string, consumer: string, status: number | null }) => [a.outcome, a.consumer, a.status]), [['succeeded', 'instance-7', 201]])
  assert.deepEqual(json.logs.map((l: { message: string }) => l.message), ['working on it'])
})

test('a function\'s invocations are listed oldest first, by status, in pages', async () => {
  const first = invoke('default', 'lister')
  const second = invoke('default', 'lister')
  const third = invoke('default', 'lister')
  events.fail(lease('default', 'lister'), 'error', { status: 500, error: 'boom' })
  const all = await call('GET', `${V1}/namespaces/default/functions/lister/invocations`)
  assert.deepEqual(all.json.items.map((i: { id: string, status: string }) => [i.id, i.status]), [[first, 'retrying'], [second, 'queued'], [third, 'queued']])
  const queued = await call('GET', `${V1}/namespaces/default/functions/lister/invocations?status=queued`)
  assert.deepEqual(queued.json.items.map((i: { id: string }) => i.id), [second, third])
  const page = await call('GET', `${V1}/namespaces/default/functions/lister/invocations?limit=2`)
  assert.equal(page.json.items.length, 2)
  const next = await call('GET', `${V1}/namespaces/default/functions/lister/invocations?limit=2&after=${String(page.json.next)}`)
  assert.deepEqual(next.json.items.map((i: { id: string }) => i.id), [third])
  assert.equal((await call('GET', `${V1}/namespaces/default/functions/lister/invocations?status=lost`)).status, 422)
  assert.deepEqual((await call('GET', `${V1}/namespaces/default/functions/nobody/invocations`)).json.items, [])
})

test('DELETE cancels an invocation not yet run; one running or finished is 409', async () => {
  const waiting = invoke('default', 'canceller')
  const cancelled = await call('DELETE', `${V1}/namespaces/default/invocations/${waiting}`)
  assert.deepEqual([cancelled.status, cancelled.json.result], [200, 'cancelled'])
  assert.equal((await call('GET', `${V1}/namespaces/default/invocations/${waiting}`)).json.status, 'cancelled')
  const again = await call('DELETE', `${V1}/namespaces/default/invocations/${waiting}`)
  assert.deepEqual([again.status, again.json.code], [409, 'ROOST_E_CONFLICT'])
  invoke('default', 'canceller')
  const running = lease('default', 'canceller')
  const refused = await call('DELETE', `${V1}/namespaces/default/invocations/${running.id}`)
  assert.equal(refused.status, 409)
  assert.match(refused.json.detail, /is running/)
})

test('a namespace token sees its own invocations only; another namespace\'s id is not found; an unknown id 404', async () => {
  const mine = invoke('team-a', 'billing')
  const theirs = invoke('default', 'orders')
  assert.equal((await call('GET', `${V1}/namespaces/team-a/invocations/${mine}`, teamA)).status, 200)
  assert.equal((await call('GET', `${V1}/namespaces/default/invocations/${theirs}`, teamA)).status, 403)
  const elsewhere = await call('GET', `${V1}/namespaces/team-a/invocations/${theirs}`, teamA)
  assert.deepEqual([elsewhere.status, elsewhere.json.code], [404, 'ROOST_E_NOT_FOUND'])
  assert.equal((await call('DELETE', `${V1}/namespaces/team-a/invocations/${theirs}`, teamA)).status, 404)
  assert.equal((await call('GET', `${V1}/namespaces/default/invocations/no-such-id`)).status, 404)
  assert.equal(events.get(theirs)?.state, 'ready', 'nothing happened to it')
})

test('a queue message is no invocation: its id is not found here', async () => {
  events.declareQueue('default', 'orders')
  const { id } = events.publishOne('default', 'orders', { body: 1 })
  assert.equal((await call('GET', `${V1}/namespaces/default/invocations/${id}`)).status, 404)
})

test('without an events database the routes answer 503', async () => {
  const bare = await createApiServer({ store, live })
  try {
    const response = await bare.inject({ method: 'GET', url: `${V1}/namespaces/default/invocations/x`, headers: { authorization: `Bearer ${admin}` } })
    assert.equal(response.statusCode, 503)
  } finally {
    await bare.close()
  }
})
