import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { test, type TestContext } from 'node:test'
import type { AsyncInvocationRequest } from '../../src/gateway/index.js'
import { AsyncInvocations, asyncQueueName, sendInvocationCallback, storedRequestOf } from '../../src/invocations/index.js'
import type { EventStore, RecordView } from '../../src/events/index.js'
import { openFixture } from '../events/event-store-fixture.js'

// X-Callback-Url: the final result of an invocation POSTed to its receiver,
// tried again (a bounded number of times) while the receiver fails.

interface Received { headers: IncomingHttpHeaders, body: any }

/** A receiver on loopback answering the statuses given in turn (the last one from then on). */
async function receiver (t: TestContext, statuses: number[]): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) })
      res.writeHead(statuses[Math.min(received.length, statuses.length) - 1] as number).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const address = server.address() as { port: number }
  return { url: `http://127.0.0.1:${address.port}/results`, received }
}

function submitted (store: EventStore, callbackUrl: string | undefined): string {
  const request: AsyncInvocationRequest = {
    namespace: 'shop', function: 'cart', method: 'POST', path: '/', headers: [], body: Buffer.alloc(0), callbackUrl, caller: undefined, requestId: 'r', waitMs: 0
  }
  store.declareQueue('shop', asyncQueueName('cart'), { maxAttempts: 1 })
  return store.publishOne('shop', asyncQueueName('cart'), { kind: 'invocation', body: storedRequestOf(request) }).id
}

function succeeded (store: EventStore, callbackUrl: string | undefined): RecordView {
  submitted(store, callbackUrl)
  const [lease] = store.lease('shop', asyncQueueName('cart'), { max: 1, leaseMs: 1000, consumer: 'i-1' })
  store.ack(lease as { id: string, token: number }, { response: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"total":42}' } })
  return store.get(lease?.id as string) as RecordView
}

// The receivers of these tests are on loopback, which only a platform started with --allow-private-callbacks reaches.
const NO_DELAY = { random: () => 0, allowPrivate: true }

test('the result goes to the callback URL as JSON with the call id, status, response and attempts, as a binary-mode CloudEvent', async (t) => {
  const { store } = openFixture(t)
  const { url, received } = await receiver(t, [204])
  const record = succeeded(store, url)
  const outcome = await sendInvocationCallback(record, NO_DELAY)
  assert.deepEqual(outcome, { url, delivered: true, tries: 1, status: 204 })
  assert.equal(received.length, 1)
  const [{ headers, body }] = received as [Received]
  assert.deepEqual(body, {
    callId: record.id, namespace: 'shop', function: 'cart', status: 'succeeded', attempts: 1, statusCode: 200,
    headers: { 'content-type': 'application/json' }, body: '{"total":42}', bodyEncoding: 'utf8', truncated: false
  })
  assert.equal(headers['content-type'], 'application/json')
  assert.equal(headers['x-roost-call-id'], record.id)
  assert.deepEqual([headers['ce-specversion'], headers['ce-id'], headers['ce-source'], headers['ce-type']], ['1.0', `${record.id}/result`, '/namespaces/shop/functions/cart', 'dev.roost.async.succeeded'])
})

test('a receiver failing with 5xx is tried again, up to the attempts; a 4xx is final', async (t) => {
  const { store } = openFixture(t)
  const flaky = await receiver(t, [500, 503, 200])
  assert.deepEqual(await sendInvocationCallback(succeeded(store, flaky.url), NO_DELAY), { url: flaky.url, delivered: true, tries: 3, status: 200 })
  const down = await receiver(t, [500])
  assert.deepEqual(await sendInvocationCallback(succeeded(store, down.url), { ...NO_DELAY, attempts: 2 }), { url: down.url, delivered: false, tries: 2, status: 500 })
  const refusing = await receiver(t, [404])
  const refused = await sendInvocationCallback(succeeded(store, refusing.url), NO_DELAY)
  assert.deepEqual([refused?.delivered, refused?.tries, refusing.received.length], [false, 1, 1])
})

test('a receiver nobody listens at is tried the given number of times and reported with the error', async (t) => {
  const { store } = openFixture(t)
  const gone = await receiver(t, [200])
  const record = succeeded(store, gone.url.replace(/:\d+\//, ':1/'))
  const outcome = await sendInvocationCallback(record, { ...NO_DELAY, attempts: 2 })
  assert.equal(outcome?.delivered, false)
  assert.equal(outcome?.tries, 2)
  assert.equal(typeof outcome?.error, 'string')
})

test('no callback URL, a record still running, or a cancelled one sends nothing', async (t) => {
  const { store } = openFixture(t)
  assert.equal(await sendInvocationCallback(succeeded(store, undefined)), undefined)
  const queued = submitted(store, 'http://127.0.0.1:1/x')
  assert.equal(await sendInvocationCallback(store.get(queued) as RecordView), undefined)
  store.cancel(queued)
  assert.equal(await sendInvocationCallback(store.get(queued) as RecordView), undefined)
})

test('a failed invocation reports failed, the last status and error', async (t) => {
  const { store } = openFixture(t)
  const { url, received } = await receiver(t, [200])
  const id = submitted(store, url)
  const [lease] = store.lease('shop', asyncQueueName('cart'), { max: 1, leaseMs: 1000, consumer: 'i-1' })
  store.fail(lease as { id: string, token: number }, 'error', { status: 500, error: 'it broke' })
  await sendInvocationCallback(store.get(id) as RecordView, NO_DELAY)
  const body = received[0]?.body
  assert.deepEqual([body.status, body.statusCode, body.error, body.attempts, received[0]?.headers['ce-type']], ['failed', 500, 'it broke', 1, 'dev.roost.async.failed'])
})

test('settled() on the control plane sends the callback of a final invocation once', async (t) => {
  const { store } = openFixture(t)
  const { url, received } = await receiver(t, [200])
  const outcomes: string[] = []
  const invocations = new AsyncInvocations(store, { callbacks: NO_DELAY, onCallback: (id, outcome) => outcomes.push(`${id}:${String(outcome.delivered)}`) })
  const record = succeeded(store, url)
  invocations.settled(record.id)
  await invocations.close()
  assert.equal(received.length, 1)
  assert.deepEqual(outcomes, [`${record.id}:true`])
})

test('once retryUntil is aborted (the platform stops) no further try is made', async (t) => {
  const { store } = openFixture(t)
  const down = await receiver(t, [500])
  const stopping = new AbortController()
  const record = succeeded(store, down.url)
  const sending = sendInvocationCallback(record, { attempts: 3, initialDelayMs: 60_000, random: () => 0.5, retryUntil: stopping.signal, allowPrivate: true })
  await new Promise<void>((resolve) => { const check = (): void => { if (down.received.length > 0) resolve(); else setImmediate(check) }; check() })
  stopping.abort()
  const outcome = await sending
  assert.deepEqual([outcome?.delivered, outcome?.tries, down.received.length], [false, 1, 1])
})

test('by default a receiver on a loopback, private or link-local address is refused, once, without a connection', async (t) => {
  const { store } = openFixture(t)
  const local = await receiver(t, [200])
  const port = new URL(local.url).port
  for (const url of [local.url, `http://[::1]:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/', 'http://192.168.0.1/', 'http://0.0.0.0/']) {
    const outcome = await sendInvocationCallback(succeeded(store, url), { attempts: 3, random: () => 0 })
    assert.equal(outcome?.delivered, false, url)
    assert.equal(outcome?.refused, true, url)
    assert.equal(outcome?.tries, 0, url)
    assert.match(outcome?.error ?? '', /loopback, private or link-local.*--allow-private-callbacks/, url)
  }
  assert.equal(local.received.length, 0)
})

test('a host name is checked on the address it resolves to: localhost is refused after the lookup, and not tried again', async (t) => {
  const { store } = openFixture(t)
  const local = await receiver(t, [200])
  const url = local.url.replace('127.0.0.1', 'localhost')
  const outcome = await sendInvocationCallback(succeeded(store, url), { attempts: 3, random: () => 0 })
  assert.deepEqual([outcome?.delivered, outcome?.refused, outcome?.tries], [false, true, 1])
  assert.match(outcome?.error ?? '', /localhost \((127\.0\.0\.1|::1)\)/)
  assert.equal(local.received.length, 0)
})
