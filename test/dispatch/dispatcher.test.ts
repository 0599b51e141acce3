// The dispatcher on a real EventStore (a fresh folder, a manual clock) with
// the delivery injected: each test answers the deliveries it is handed.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { Dispatcher, type DeliveryAnswer, type DeliveryRequest, type QueueConsumer } from '../../src/dispatch/index.js'
import { openFixture, type Fixture } from '../events/event-store-fixture.js'

const NS = 'shop'

function consumer (over: Partial<QueueConsumer> = {}): QueueConsumer {
  return {
    namespace: NS, queue: 'orders', function: 'fulfil', event: 'queue', batch: 10, maxBatchWaitMs: 0,
    leaseMs: 30_000, perInstance: 10, deliveryTimeoutMs: 35_000, ...over
  }
}

interface Pending {
  request: DeliveryRequest
  ids: string[]
  signal: AbortSignal
  answer: (answer: DeliveryAnswer) => void
}

interface Harness {
  fixture: Fixture
  dispatcher: Dispatcher
  pending: Pending[]
  demands: string[]
  /** Lets queued pumps (setImmediate) and settlements run. */
  turn: () => Promise<void>
  publish: (count: number, queue?: string) => string[]
  /** Answers the oldest pending delivery. */
  answerNext: (answer: DeliveryAnswer | ((p: Pending) => DeliveryAnswer)) => Promise<Pending>
}

function harness (t: TestContext, consumers: QueueConsumer[] = [consumer()], declare: Record<string, object> = { orders: {} }): Harness {
  const fixture = openFixture(t)
  for (const [queue, policy] of Object.entries(declare)) fixture.store.declareQueue(NS, queue, policy)
  const pending: Pending[] = []
  const demands: string[] = []
  const dispatcher = new Dispatcher({
    events: fixture.store,
    clock: fixture.clock,
    consumerName: 'test-dispatcher',
    eventToken: 'e'.repeat(64),
    deliver: async (request, signal) => await new Promise<DeliveryAnswer>((resolve) => {
      const header = request.headers.find(([name]) => name === 'x-roost-call-id')
      const parsed = header === undefined ? JSON.parse(String(request.body)) as { messages?: Array<{ id: string }>, id?: string } : { id: header[1] }
      const ids = parsed.messages?.map((m) => m.id) ?? [parsed.id as string]
      const entry: Pending = { request, ids, signal, answer: resolve }
      signal.addEventListener('abort', () => resolve({ kind: 'aborted' }))
      pending.push(entry)
    }),
    hooks: { onDemand: (namespace, fn) => demands.push(`${namespace}/${fn}`) }
  })
  dispatcher.setConsumers(consumers)
  dispatcher.start()
  t.after(async () => await dispatcher.stop(0))
  const turn = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
  }
  return {
    fixture,
    dispatcher,
    pending,
    demands,
    turn,
    publish: (count, queue = 'orders') => {
      const ids = fixture.store.publish(NS, queue, Array.from({ length: count }, (_, i) => ({ body: { n: i } }))).map((r) => r.id)
      dispatcher.notify(NS, queue)
      return ids
    },
    answerNext: async (answer) => {
      const next = pending.shift()
      assert.ok(next !== undefined, 'a delivery is pending')
      next.answer(typeof answer === 'function' ? answer(next) : answer)
      await turn()
      return next
    }
  }
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}): DeliveryAnswer =>
  ({ kind: 'answered', status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(value)) })
const ackAll = (p: Pending): DeliveryAnswer => json(200, { results: p.ids.map((id) => ({ id, outcome: 'ack' })) })

test('a publish at zero instances asks for one at once and sends one instance\'s worth: a batch of 10, no more', async (t) => {
  const h = harness(t)
  h.publish(35)
  await h.turn()
  assert.deepEqual(h.demands, ['shop/fulfil', 'shop/fulfil'], 'on the notify, and on the delivery at zero')
  assert.equal(h.pending.length, 1)
  assert.equal(h.pending[0]?.ids.length, 10)
  assert.equal(h.pending[0]?.request.path, '/fn/fulfil.shop/')
  assert.equal(h.pending[0]?.request.method, 'POST')
  assert.deepEqual(h.pending[0]?.request.headers, [['content-type', 'application/json'], ['x-roost-event', 'queue'], ['x-roost-event-token', 'e'.repeat(64)]])
  assert.deepEqual(h.fixture.store.stats(NS, 'orders'), { namespace: NS, queue: 'orders', waiting: 25, leased: 10, backlog: 35, dead: 0, lastCompletedAt: undefined })
  assert.equal(h.dispatcher.inFlight(NS, 'orders'), 10)
})

test('room grows with ready instances (ready × target in flight) and each settlement makes room for the next batch', async (t) => {
  const h = harness(t)
  h.publish(45)
  await h.turn()
  assert.equal(h.pending.length, 1)
  h.dispatcher.setReady(new Map([['shop/fulfil', 3]]))
  await h.turn()
  assert.equal(h.pending.length, 3, 'three instances: 30 in flight')
  assert.equal(h.dispatcher.inFlight(NS, 'orders'), 30)
  await h.answerNext(ackAll)
  assert.equal(h.pending.length, 3, 'a settled batch is replaced by the next')
  assert.equal(h.fixture.store.stats(NS, 'orders').waiting, 5)
  h.dispatcher.setReady(new Map([['shop/fulfil', 1]]))
  for (let i = 0; i < 3; i++) await h.answerNext(ackAll)
  assert.equal(h.pending.length, 1, 'one instance again: the last 5 go in one delivery, within 10 in flight')
  assert.equal(h.pending[0]?.ids.length, 5)
  await h.answerNext(ackAll)
  assert.deepEqual(h.fixture.store.stats(NS, 'orders'), { namespace: NS, queue: 'orders', waiting: 0, leased: 0, backlog: 0, dead: 0, lastCompletedAt: h.fixture.clock.time })
})

test('settlement: ack succeeds, retry is a counted attempt with its delay, dead goes to the dead letters', async (t) => {
  const h = harness(t)
  const [a, b, c] = h.publish(3)
  await h.turn()
  await h.answerNext(json(200, { results: [{ id: a, outcome: 'ack' }, { id: b, outcome: 'retry', delayMs: 5000 }, { id: c, outcome: 'dead', reason: 'poison' }] }))
  const { store, clock } = h.fixture
  assert.equal(store.get(a as string)?.state, 'succeeded')
  const retried = store.get(b as string)
  assert.equal(retried?.state, 'ready')
  assert.equal(retried?.attempts, 1)
  assert.equal(retried?.notBefore, clock.time + 5000)
  assert.equal(store.get(c as string)?.state, 'dead')
  assert.equal(store.get(c as string)?.deadReason, 'poison')
  assert.equal(h.pending.length, 0, 'the retry is not due yet')
  clock.advance(5000)
  h.dispatcher.notify(NS, 'orders')
  await h.turn()
  assert.deepEqual(h.pending.map((p) => p.ids), [[b]], 'due again after its delay')
})

test('a 503 from the gateway releases the batch without using an attempt, due again after Retry-After', async (t) => {
  const h = harness(t)
  const ids = h.publish(2)
  await h.turn()
  await h.answerNext(json(503, { code: 'ROOST_E_NOT_READY', detail: 'no instance' }, { 'retry-after': '2' }))
  for (const id of ids) {
    const record = h.fixture.store.get(id)
    assert.equal(record?.state, 'ready')
    assert.equal(record?.attempts, 0)
    assert.equal(record?.history[0]?.counted, false)
    assert.equal(record?.notBefore, h.fixture.clock.time + 2000)
  }
})

test('a handler that keeps failing: counted attempts, then dead with every attempt\'s error kept', async (t) => {
  const h = harness(t, [consumer()], { orders: { maxAttempts: 3, backoff: { initialMs: 0, maxMs: 0 } } })
  const [id] = h.publish(1)
  for (let attempt = 1; attempt <= 3; attempt++) {
    await h.turn()
    const delivery = await h.answerNext(json(500, { code: 'ROOST_E_HANDLER', detail: `boom ${attempt}` }))
    assert.equal((JSON.parse(String(delivery.request.body)) as { messages: Array<{ attempt: number }> }).messages[0]?.attempt, attempt)
    h.dispatcher.notify(NS, 'orders')
  }
  const record = h.fixture.store.get(id as string)
  assert.equal(record?.state, 'dead')
  assert.deepEqual(record?.history.map((a) => [a.outcome, a.counted, a.error, a.consumer]), [
    ['error', true, 'boom 1', 'test-dispatcher'], ['error', true, 'boom 2', 'test-dispatcher'], ['error', true, 'boom 3', 'test-dispatcher']
  ])
})

test('fewer than a batch wait up to maxBatchWait from when the oldest was due, then go together', async (t) => {
  const h = harness(t, [consumer({ maxBatchWaitMs: 1000 })])
  h.publish(3)
  await h.turn()
  assert.equal(h.pending.length, 0, 'three of ten: they wait')
  h.fixture.clock.advance(400)
  h.publish(2)
  await h.turn()
  assert.equal(h.pending.length, 0)
  h.fixture.clock.advance(600)
  h.dispatcher.notify(NS, 'orders')
  await h.turn()
  assert.deepEqual(h.pending.map((p) => p.ids.length), [5], 'one delivery of five once the oldest waited 1 s')
  h.publish(12)
  await h.answerNext(ackAll)
  assert.deepEqual(h.pending.map((p) => p.ids.length), [10], 'a full batch goes at once')
})

test('stop gives deliveries in flight their grace, then releases them without an attempt', async (t) => {
  const h = harness(t)
  const ids = h.publish(4)
  await h.turn()
  assert.equal(h.pending.length, 1)
  await h.dispatcher.stop(0)
  for (const id of ids) {
    const record = h.fixture.store.get(id)
    assert.equal(record?.state, 'ready')
    assert.equal(record?.attempts, 0)
    assert.equal(record?.history[0]?.outcome, 'stopped')
  }
  h.publish(1)
  await h.turn()
  assert.equal(h.pending.length, 1, 'nothing new is leased once stopped')
})

test('a queue no longer consumed gets no new deliveries; the one in flight still settles', async (t) => {
  const h = harness(t)
  h.publish(15)
  await h.turn()
  h.dispatcher.setConsumers([])
  await h.answerNext(ackAll)
  assert.equal(h.pending.length, 0)
  assert.equal(h.fixture.store.stats(NS, 'orders').waiting, 5)
  assert.deepEqual(h.dispatcher.consumers(), [])
  h.dispatcher.setConsumers([consumer()])
  await h.turn()
  assert.equal(h.pending.length, 1, 'consumed again: delivered again')
})

test('a message that dies is copied to the trigger\'s dead-letter queue with its reason', async (t) => {
  const h = harness(t, [consumer({ deadLetterQueue: 'graveyard' })], { orders: {}, graveyard: {} })
  const [id] = h.publish(1)
  await h.turn()
  await h.answerNext(json(200, { results: [{ id, outcome: 'dead', reason: 'bad sku' }] }))
  const [copy] = h.fixture.store.list(NS, 'graveyard')
  assert.deepEqual(copy?.attributes, { deadqueue: 'orders', deadid: id, deadreason: 'bad sku' })
  assert.equal(Buffer.from(copy?.body ?? []).toString(), '{"n":0}')
})

test('replacing a cron firing abandons its delivery: released without an attempt, then cancelled', async (t) => {
  const h = harness(t)
  const [id] = h.publish(1)
  await h.turn()
  assert.equal(h.dispatcher.abandon(NS, 'orders'), 1)
  await h.turn()
  const record = h.fixture.store.get(id as string)
  assert.equal(record?.state, 'cancelled')
  assert.equal(record?.attempts, 0)
})

test('an async invocation is replayed as it came, with the event headers, and its response stored as the result', async (t) => {
  const h = harness(t, [consumer({ queue: 'async.api', function: 'api', event: 'invocation', batch: 1 })], { 'async.api': {} })
  const stored = { v: 1, function: 'api', method: 'PUT', path: '/items/7?x=1', headers: [['content-type', 'text/plain']], body: Buffer.from('hello').toString('base64'), callbackUrl: null, caller: null, requestId: 'r1' }
  const { id } = h.fixture.store.publishOne(NS, 'async.api', { kind: 'invocation', body: stored })
  h.dispatcher.notify(NS, 'async.api')
  await h.turn()
  const request = h.pending[0]?.request
  assert.equal(request?.method, 'PUT')
  assert.equal(request?.path, '/fn/api.shop/items/7?x=1')
  const created = new Date(h.fixture.store.get(id)?.createdAt ?? 0).toISOString()
  assert.deepEqual(request?.headers, [
    ['content-type', 'text/plain'],
    ['ce-specversion', '1.0'], ['ce-id', id], ['ce-source', '/namespaces/shop/queues/async.api'], ['ce-type', 'dev.roost.async.invocation'], ['ce-time', created],
    ['x-roost-event', 'invocation'], ['x-roost-event-token', 'e'.repeat(64)], ['x-roost-call-id', id]
  ])
  assert.equal(String(request?.body), 'hello')
  await h.answerNext({ kind: 'answered', status: 201, headers: { 'content-type': 'text/plain', 'x-app': 'yes' }, body: Buffer.from('made') })
  const record = h.fixture.store.get(id)
  assert.equal(record?.state, 'succeeded')
  assert.deepEqual({ status: record?.response?.status, headers: record?.response?.headers, body: Buffer.from(record?.response?.body ?? []).toString() }, { status: 201, headers: { 'content-type': 'text/plain', 'x-app': 'yes' }, body: 'made' })
})

test('an invocation record that is not a stored request is dead at once, without a delivery', async (t) => {
  const h = harness(t, [consumer({ queue: 'async.api', function: 'api', event: 'invocation', batch: 1 })], { 'async.api': {} })
  const { id } = h.fixture.store.publishOne(NS, 'async.api', { kind: 'invocation', body: { v: 99 } })
  h.dispatcher.notify(NS, 'async.api')
  await h.turn()
  assert.equal(h.pending.length, 0)
  assert.equal(h.fixture.store.get(id)?.state, 'dead')
  assert.equal(h.fixture.store.get(id)?.deadReason, 'the record is not a stored request this platform can replay')
})

test('a delivery that runs long renews its leases: they do not run out while the handler works', async (t) => {
  // A lease of 750 ms is renewed about every 250 ms of real time; the manual clock says how far each renewal reaches.
  const h = harness(t, [consumer({ leaseMs: 750 })])
  const [id] = h.publish(1)
  await h.turn()
  const { store, clock } = h.fixture
  const first = store.get(id as string)?.leaseExpiresAt
  assert.equal(first, clock.time + 750)
  for (let round = 0; round < 3; round++) {
    clock.advance(600)
    const before = store.get(id as string)?.leaseExpiresAt
    await waitUntil(() => (store.get(id as string)?.leaseExpiresAt ?? 0) > (before ?? 0))
    assert.equal(store.get(id as string)?.leaseExpiresAt, clock.time + 750, 'renewed to a full lease from now')
  }
  assert.equal(store.recoverExpiredLeases(), 0, '1.8 s after the lease was taken, it is still held')
  await h.answerNext(ackAll)
  assert.equal(store.get(id as string)?.state, 'succeeded')
})

async function waitUntil (check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) assert.fail('no renewal within 10 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('a cron firing is delivered with its record as ce-* headers; a batch of messages without them', async (t) => {
  const h = harness(t, [consumer(), consumer({ queue: 'cron.tick', function: 'tick', event: 'scheduled', batch: 1 })], { orders: {}, 'cron.tick': {} })
  const firing = { trigger: 'tick', cron: '* * * * *', timezone: 'UTC', scheduledTime: 60_000 }
  const { id } = h.fixture.store.publishOne(NS, 'cron.tick', { kind: 'firing', body: firing, type: 'dev.roost.cron.fired', source: '/namespaces/shop/functions/tick' })
  h.dispatcher.notify(NS, 'cron.tick')
  h.publish(1)
  await h.turn()
  const scheduled = h.pending.find((p) => p.request.path === '/fn/tick.shop/')?.request
  const created = new Date(h.fixture.store.get(id)?.createdAt ?? 0).toISOString()
  assert.deepEqual(scheduled?.headers.filter(([name]) => name.startsWith('ce-')), [
    ['ce-specversion', '1.0'], ['ce-id', id], ['ce-source', '/namespaces/shop/functions/tick'], ['ce-type', 'dev.roost.cron.fired'], ['ce-time', created]
  ])
  const batch = h.pending.find((p) => p.request.path === '/fn/fulfil.shop/')?.request
  assert.deepEqual(batch?.headers.filter(([name]) => name.startsWith('ce-')), [])
})
