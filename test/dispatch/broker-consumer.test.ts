// The broker consumer against a subscription that records what it is told
// (the connectors have their own contract test against real brokers): it
// delivers within capacity, settles by the same table as the dispatcher with
// Roost's attempts and backoff, keeps a dead record of what dies, and on a
// stop releases what it holds.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { BrokerMessage, Subscription, SettleAck } from '../../src/connectors/index.js'
import { BrokerConsumer, brokerAction, deadRecordId, type BrokerConsumerPlan, type DeliveryAnswer, type DeliveryRequest } from '../../src/dispatch/index.js'
import type { DeadCopy, Settlement } from '../../src/events/index.js'

const PLAN: BrokerConsumerPlan = {
  namespace: 'shop', queue: 'orders', function: 'fulfil', batch: 3, leaseMs: 30_000, perInstance: 4, maxInFlight: 40, deliveryTimeoutMs: 5000,
  maxAttempts: 3, backoff: { initialMs: 1000, maxMs: 8000 },
  broker: { connector: 'redis', url: 'redis://127.0.0.1:6379', create: true, stream: 'orders', group: 'fulfil' }
}

function message (id: string, attempt = 1): BrokerMessage {
  return {
    id, attempt, publishedAt: 1000, body: Buffer.from(`{"n":"${id}"}`), bodyType: 'json', source: '/shop', type: 'order', subject: undefined,
    contentType: 'application/json', attributes: { tenant: 'acme' }
  }
}

/** A subscription whose fetches take from `queue`, and which records every settlement. */
class FakeSubscription implements Subscription {
  readonly queue: BrokerMessage[] = []
  readonly settled: string[] = []
  readonly fetches: number[] = []
  closed = false
  leaseLost = new Set<string>()
  private waiter: (() => void) | null = null

  push (...messages: BrokerMessage[]): void {
    this.queue.push(...messages)
    this.waiter?.()
  }

  async fetch (max: number, waitMs: number, signal?: AbortSignal): Promise<BrokerMessage[]> {
    this.fetches.push(max)
    if (this.queue.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(waitMs, 50))
        this.waiter = () => { clearTimeout(timer); resolve() }
        signal?.addEventListener('abort', () => { clearTimeout(timer); resolve() })
      })
    }
    return this.queue.splice(0, max)
  }

  private async record (what: string, m: BrokerMessage): Promise<SettleAck> {
    this.settled.push(`${what} ${m.id}`)
    return this.leaseLost.has(m.id) ? 'lease-lost' : 'settled'
  }

  ack (m: BrokerMessage): Promise<SettleAck> { return this.record('ack', m) }
  ackMany (ms: readonly BrokerMessage[]): Promise<SettleAck[]> { return Promise.all(ms.map((m) => this.ack(m))) }
  retry (m: BrokerMessage, delayMs: number): Promise<SettleAck> { return this.record(`retry(${delayMs})`, m) }
  release (m: BrokerMessage, delayMs: number): Promise<SettleAck> { return this.record(`release(${delayMs})`, m) }
  readonly renewed: string[] = []
  async working (m: BrokerMessage): Promise<SettleAck> {
    this.renewed.push(m.id)
    return 'settled'
  }
  dead (m: BrokerMessage, reason: string): Promise<SettleAck> { return this.record(`dead(${reason})`, m) }
  async backlog (): Promise<{ waiting: number, inFlight: number }> { return { waiting: this.queue.length, inFlight: 0 } }
  async close (): Promise<void> { this.closed = true }
}

interface Pending { request: DeliveryRequest, ids: string[], answer: (a: DeliveryAnswer) => void }

function harness (t: TestContext, ready = 1, plan: Partial<BrokerConsumerPlan> = {}): { sub: FakeSubscription, pending: Pending[], dead: DeadCopy[], undone: string[], demands: number[], consumer: BrokerConsumer } {
  const sub = new FakeSubscription()
  const pending: Pending[] = []
  const dead: DeadCopy[] = []
  const undone: string[] = []
  const demands: number[] = []
  const consumer = new BrokerConsumer({ ...PLAN, ...plan }, {
    subscription: sub,
    deliver: async (request, signal) => await new Promise<DeliveryAnswer>((resolve) => {
      const ids = (JSON.parse(String(request.body)) as { messages: Array<{ id: string }> }).messages.map((m) => m.id)
      signal.addEventListener('abort', () => resolve({ kind: 'aborted' }))
      pending.push({ request, ids, answer: resolve })
    }),
    eventToken: 'e'.repeat(64),
    readyOf: () => ready,
    onDemand: () => demands.push(1),
    keepDead: (copy) => dead.push(copy),
    undoDead: (id) => undone.push(id),
    onError: () => {},
    consumerName: 'test-consumer',
    random: () => 0.5
  })
  consumer.start()
  t.after(async () => await consumer.stop(0))
  return { sub, pending, dead, undone, demands, consumer }
}

async function until (check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(check(), what)
}

const ok = (results: Array<Record<string, unknown>>): DeliveryAnswer => ({
  kind: 'answered', status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ results }))
})

test('messages go to the function\'s route as a queue delivery, a batch at most, and are acknowledged by the handler\'s answer', async (t) => {
  const h = harness(t)
  h.sub.push(message('a'), message('b'), message('c'), message('d'))
  await until(() => h.pending.length === 2, 'two deliveries: a batch of 3, then one within the instance\'s 4')
  const [first, second] = h.pending as [Pending, Pending]
  assert.deepEqual(first.ids, ['a', 'b', 'c'])
  assert.deepEqual(second.ids, ['d'])
  assert.equal(first.request.path, '/fn/fulfil.shop/')
  assert.deepEqual(first.request.headers.find(([name]) => name === 'x-roost-event'), ['x-roost-event', 'queue'])
  const body = JSON.parse(String(first.request.body)) as { queue: string, shared?: Record<string, unknown>, messages: Array<{ body: unknown, attempt: number, maxAttempts: number, attributes: unknown }> }
  assert.equal(body.queue, 'orders')
  const a = { ...body.shared, ...body.messages[0] }
  assert.deepEqual(a, { ...a, body: { n: 'a' }, attempt: 1, maxAttempts: 3, attributes: { tenant: 'acme' } })
  first.answer(ok([{ id: 'a' }, { id: 'b', outcome: 'ack' }, { id: 'c', outcome: 'ack' }]))
  await until(() => h.sub.settled.length === 3, 'three settled')
  assert.deepEqual(h.sub.settled, ['ack a', 'ack b', 'ack c'])
  assert.equal(h.consumer.inFlight, 1)
})

test('the runtime\'s {"acked":n} for the whole batch acknowledges it in one ackMany', async (t) => {
  const h = harness(t)
  const batches: string[][] = []
  const ackMany = h.sub.ackMany.bind(h.sub)
  h.sub.ackMany = async (ms) => { batches.push(ms.map((m) => m.id)); return await ackMany(ms) }
  h.sub.push(message('a'), message('b'), message('c'))
  await until(() => h.pending.length === 1, 'delivered')
  ;(h.pending[0] as Pending).answer({ kind: 'answered', status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"acked":3}') })
  await until(() => h.sub.settled.length === 3, 'settled')
  assert.deepEqual(batches, [['a', 'b', 'c']])
  assert.deepEqual(h.sub.settled, ['ack a', 'ack b', 'ack c'])
})

test('a failure with attempts left is a retry after Roost\'s backoff; on the last attempt it is dead, kept as a dead record first', async (t) => {
  const h = harness(t)
  h.sub.push(message('x', 2), message('y', 3))
  await until(() => h.pending.length === 1, 'delivered')
  h.pending[0]?.answer({ kind: 'answered', status: 500, headers: { 'content-type': 'application/problem+json' }, body: Buffer.from('{"code":"ROOST_E_HANDLER_FAILED","detail":"boom"}') })
  await until(() => h.sub.settled.length === 2, 'both settled')
  // Attempt 2 of 3 failed: the ceiling is 1000 · 2^1, half of it with random 0.5.
  assert.deepEqual(h.sub.settled, ['retry(1000) x', 'dead(error: boom on attempt 3 of 3: no attempts left) y'])
  assert.equal(h.dead.length, 1)
  const [copy] = h.dead as [DeadCopy]
  assert.equal(copy.id, deadRecordId('shop', 'orders', 'y'))
  assert.deepEqual({ attempts: copy.attempts, maxAttempts: copy.maxAttempts, outcome: copy.outcome, error: copy.error, status: copy.status }, { attempts: 3, maxAttempts: 3, outcome: 'error', error: 'boom', status: 500 })
  assert.deepEqual(copy.attributes, { tenant: 'acme', deadid: 'y' })
  assert.deepEqual(h.undone, [])
})

test('the gateway\'s own refusal releases without an attempt, after its Retry-After', async (t) => {
  const h = harness(t)
  h.sub.push(message('r'))
  await until(() => h.pending.length === 1, 'delivered')
  h.pending[0]?.answer({ kind: 'answered', status: 429, headers: { 'content-type': 'application/problem+json', 'retry-after': '2' }, body: Buffer.from('{"code":"ROOST_E_RATE_LIMITED"}') })
  await until(() => h.sub.settled.length === 1, 'settled')
  assert.deepEqual(h.sub.settled, ['release(2000) r'])
})

test('a dead message whose lease the broker gave away is not kept dead', async (t) => {
  const h = harness(t)
  h.sub.leaseLost.add('z')
  h.sub.push(message('z'))
  await until(() => h.pending.length === 1, 'delivered')
  h.pending[0]?.answer(ok([{ id: 'z', outcome: 'dead', reason: 'bad order' }]))
  await until(() => h.undone.length === 1, 'undone')
  assert.deepEqual(h.undone, [deadRecordId('shop', 'orders', 'z')])
})

test('at zero ready instances one instance\'s worth goes out and the function is asked to start', async (t) => {
  const h = harness(t, 0)
  h.sub.push(message('a'), message('b'), message('c'), message('d'), message('e'))
  await until(() => h.pending.length === 2, 'two deliveries')
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.equal(h.pending.flatMap((p) => p.ids).length, 4, 'no more than perInstance in flight')
  assert.ok(h.demands.length >= 1)
})

test('a stop aborts what is in flight after the grace: released, using no attempt; then the subscription closes', async (t) => {
  const h = harness(t)
  h.sub.push(message('s'))
  await until(() => h.pending.length === 1, 'delivered')
  await h.consumer.stop(0)
  assert.deepEqual(h.sub.settled, ['release(0) s'])
  assert.equal(h.sub.closed, true)
})

test('the table as broker actions: ack, release, handler retry delay, dead at once', () => {
  const policy = { maxAttempts: 5, backoff: { initialMs: 100, maxMs: 1000 } }
  const base = { id: 'm', token: 0 }
  const cases: Array<[Settlement, number, unknown]> = [
    [{ ...base, outcome: 'succeeded' }, 1, { op: 'ack' }],
    [{ ...base, outcome: 'released', reason: 'stopped' }, 1, { op: 'release', delayMs: 0 }],
    [{ ...base, outcome: 'failed', cause: 'retry', retryAfterMs: 7000 }, 1, { op: 'retry', delayMs: 7000 }],
    [{ ...base, outcome: 'failed', cause: 'timeout', error: 'slow' }, 5, { op: 'dead', reason: 'timeout: slow on attempt 5 of 5: no attempts left', outcome: 'timeout', error: 'slow' }],
    [{ ...base, outcome: 'dead', reason: 'poison' }, 1, { op: 'dead', reason: 'poison', outcome: 'dead' }]
  ]
  for (const [settlement, attempt, expected] of cases) assert.deepEqual(brokerAction(settlement, attempt, policy, () => 0), expected)
})

test('one fetch takes the room of up to ten batches and as much again ahead; its messages go out as deliveries of a batch each', async (t) => {
  const h = harness(t, 3)
  h.sub.push(...'abcdefghijklm'.split('').map((id) => message(id)))
  // 3 ready instances × 4: room for 12 and 12 ahead, a batch of 3 → one fetch of 24, four deliveries, one message ahead.
  await until(() => h.pending.length === 4, 'four deliveries')
  assert.equal(h.sub.fetches[0], 24)
  assert.deepEqual(h.pending.map((p) => p.ids.join('')), ['abc', 'def', 'ghi', 'jkl'])
  assert.equal(h.consumer.held, 13, 'the message fetched ahead is held too')
})

test('with room for more than one fetch takes, a second is under way beside the first, for room the first did not ask for', async (t) => {
  const h = harness(t, 1, { perInstance: 40 })
  // Fetches that end only when told to: both are seen under way at once.
  // (The consumer already runs: its first fetches find the fake's queue empty and end within 50 ms.)
  const answers: Array<(messages: BrokerMessage[]) => void> = []
  const asked: number[] = []
  h.sub.fetch = async (max) => {
    asked.push(max)
    return await new Promise<BrokerMessage[]>((resolve) => answers.push(resolve))
  }
  // One instance × 40: room for 40 and 40 ahead, a batch of 3 → fetches of at most ten batches, 30 each.
  await until(() => asked.length === 2, 'two fetches under way')
  assert.deepEqual(asked, [30, 30])
  ;(answers[0] as (messages: BrokerMessage[]) => void)(Array.from({ length: 30 }, (_, i) => message(`m${i}`)))
  await until(() => asked.length === 3, 'the first asks again')
  // 30 delivered and 30 asked for by the second: 20 of the 80 are left.
  assert.equal(asked[2], 20)
  assert.equal(h.pending.length, 10, 'the first fetch went out as ten deliveries of a batch')
  for (const answer of answers.slice(1)) answer([])
})

test('a message fetched ahead goes out as soon as a delivery ends, its lease renewed while it waits; a stop gives it back', async (t) => {
  const h = harness(t, 1, { leaseMs: 300 })
  h.sub.push(...'abcdefg'.split('').map((id) => message(id)))
  await until(() => h.pending.length === 2, 'the instance\'s 4: a batch of 3 and one')
  assert.deepEqual(h.pending.map((p) => p.ids.join('')), ['abc', 'd'])
  await until(() => h.sub.renewed.includes('e'), 'a message waiting ahead has its lease renewed')
  assert.equal(h.sub.queue.length, 0, 'all seven were fetched at once: what goes out next comes from what was fetched ahead')
  ;(h.pending[1] as Pending).answer(ok([{ id: 'd' }]))
  await until(() => h.pending.length === 3, 'the next one goes out from what was fetched ahead')
  assert.deepEqual((h.pending[2] as Pending).ids, ['e'])
  await h.consumer.stop(0)
  assert.deepEqual(h.sub.settled.filter((s) => s.startsWith('release')).sort(), ['release(0) a', 'release(0) b', 'release(0) c', 'release(0) e', 'release(0) f', 'release(0) g'])
})

test('a message waiting ahead whose lease the broker gave away is dropped, not delivered', async (t) => {
  const h = harness(t, 1, { leaseMs: 300 })
  const working = h.sub.working.bind(h.sub)
  h.sub.working = async (m) => m.id === 'e' ? 'lease-lost' : await working(m)
  h.sub.push(...'abcdefg'.split('').map((id) => message(id)))
  await until(() => h.pending.length === 2, 'the instance\'s 4: a batch of 3 and one')
  await until(() => h.sub.renewed.includes('f'), 'the messages waiting ahead had their leases renewed')
  ;(h.pending[1] as Pending).answer(ok([{ id: 'd' }]))
  await until(() => h.pending.length === 3, 'the next one goes out from what was fetched ahead')
  assert.deepEqual((h.pending[2] as Pending).ids, ['f'])
  await h.consumer.stop(0)
  assert.ok(!h.sub.settled.some((s) => s.endsWith(' e')), 'nothing is settled for the lost one')
})

test('an answered delivery gives its room back while its settlements are on their way, and its messages still count as held', async (t) => {
  const h = harness(t)
  let releaseAcks!: () => void
  const acksDone = new Promise<void>((resolve) => { releaseAcks = resolve })
  const ack = h.sub.ack.bind(h.sub)
  h.sub.ack = async (m) => { await acksDone; return await ack(m) }
  h.sub.push(...'abcdef'.split('').map((id) => message(id)))
  await until(() => h.pending.length === 2, 'the instance\'s 4: a batch of 3 and one')
  ;(h.pending[0] as Pending).answer(ok([{ id: 'a' }, { id: 'b' }, { id: 'c' }]))
  await until(() => h.pending.length === 3, 'the room of the answered batch is fetched again before its acks are done')
  assert.deepEqual([h.consumer.inFlight, h.consumer.settling, h.consumer.held], [3, 3, 6])
  assert.deepEqual((h.pending[2] as Pending).ids, ['e', 'f'])
  releaseAcks()
  await until(() => h.sub.settled.length === 3, 'the acks went through')
  assert.deepEqual([h.consumer.settling, h.consumer.held], [0, 3])
})
