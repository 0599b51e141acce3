// Broker triggers over a fake connector (the real ones have their contract
// test): one connector per URL and credentials, shared; each trigger's
// condition follows its connector's state and its own start; publishes are
// refused while the broker is away; a trigger that goes away closes its
// subscription, and the last one its connector.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { BrokerMessage, Capabilities, Connector, ConnectorOptions, ConnectorState, OutgoingMessage, QueueBinding, Subscription } from '../../src/connectors/index.js'
import { BrokerMissingError, BrokerUnavailableError } from '../../src/errors/index.js'
import { BrokerTriggers, type BrokerConsumerPlan, type BrokerTriggerStatus } from '../../src/dispatch/index.js'
import type { EventStore } from '../../src/events/index.js'

function plan (queue: string, over: Partial<BrokerConsumerPlan['broker']> = {}, fn = 'fulfil'): BrokerConsumerPlan {
  return {
    namespace: 'shop', queue, function: fn, batch: 5, leaseMs: 30_000, perInstance: 10, maxInFlight: 100, deliveryTimeoutMs: 5000, maxAttempts: 3,
    backoff: { initialMs: 100, maxMs: 1000 },
    broker: { connector: 'redis', url: 'redis://127.0.0.1:6379', create: true, stream: queue, group: 'g', ...over }
  }
}

class FakeSubscription implements Subscription {
  closed = false
  async fetch (_max: number, waitMs: number, signal?: AbortSignal): Promise<BrokerMessage[]> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(waitMs, 20))
      signal?.addEventListener('abort', () => { clearTimeout(timer); resolve() })
    })
    return []
  }

  async ack (): Promise<'settled'> { return 'settled' }
  async ackMany (ms: readonly BrokerMessage[]): Promise<Array<'settled'>> { return ms.map(() => 'settled') }
  async retry (): Promise<'settled'> { return 'settled' }
  async release (): Promise<'settled'> { return 'settled' }
  async working (): Promise<'settled'> { return 'settled' }
  async dead (): Promise<'settled'> { return 'settled' }
  async backlog (): Promise<{ waiting: number, inFlight: number }> { return { waiting: 7, inFlight: 2 } }
  async close (): Promise<void> { this.closed = true }
}

class FakeConnector implements Connector {
  readonly kind = 'redis' as const
  readonly subscriptions: FakeSubscription[] = []
  readonly published: OutgoingMessage[] = []
  private listener: ((state: ConnectorState) => void) | null = null
  closed = false
  missing = false

  constructor (readonly url: string) {}

  async connect (): Promise<Capabilities> {
    this.state({ state: 'connected', server: 'redis 7.0.15' })
    return { server: 'redis 7.0.15', warnings: ['maxmemory-policy allkeys-lru could evict a queue'] }
  }

  /** While set, subscribe waits for it (a broker slow to create the queue). */
  subscribeGate: Promise<void> | null = null

  async subscribe (binding: QueueBinding): Promise<Subscription> {
    if (this.subscribeGate !== null) await this.subscribeGate
    if (this.missing) throw new BrokerMissingError(`stream ${String(binding.stream)} is not there`)
    const sub = new FakeSubscription()
    this.subscriptions.push(sub)
    return sub
  }

  async publish (_binding: QueueBinding, messages: readonly OutgoingMessage[]): Promise<void> {
    this.published.push(...messages)
  }

  onState (listener: (state: ConnectorState) => void): void { this.listener = listener }
  state (state: ConnectorState): void { this.listener?.(state) }
  async close (): Promise<void> { this.closed = true }
}

function harness (t: TestContext, secrets: Record<string, Record<string, string>> = {}, gate: Promise<void> | null = null): { triggers: BrokerTriggers, connectors: FakeConnector[], statuses: BrokerTriggerStatus[], warnings: string[] } {
  const connectors: FakeConnector[] = []
  const statuses: BrokerTriggerStatus[] = []
  const warnings: string[] = []
  const triggers = new BrokerTriggers({
    events: { isOpen: false } as unknown as EventStore,
    deliver: async () => ({ kind: 'unreachable', error: 'none' }),
    eventToken: 'e'.repeat(64),
    secrets: () => (name) => secrets[name] === undefined ? undefined : { data: secrets[name] as Record<string, string>, resourceVersion: 1 },
    readyOf: () => 1,
    onDemand: () => {},
    onStatus: (status) => statuses.push(status),
    onWarning: (_status, warning) => warnings.push(warning),
    connect: (options: ConnectorOptions) => {
      const connector = new FakeConnector(options.url)
      connector.subscribeGate = gate
      connectors.push(connector)
      return connector
    }
  })
  t.after(async () => await triggers.stop())
  return { triggers, connectors, statuses, warnings }
}

async function until (check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(check(), what)
}

test('triggers on one URL share a connector; each connects, with its capability warnings, and samples its backlog', async (t) => {
  const h = harness(t)
  h.triggers.setConsumers([plan('orders'), plan('refunds')])
  await until(() => h.triggers.statuses().every((s) => s.state === 'Connected'), 'both connected')
  assert.equal(h.connectors.length, 1)
  assert.equal(h.connectors[0]?.subscriptions.length, 2)
  assert.deepEqual(h.warnings, ['maxmemory-policy allkeys-lru could evict a queue', 'maxmemory-policy allkeys-lru could evict a queue'])
  const status = h.triggers.status('shop', 'orders')
  assert.equal(status?.server, 'redis 7.0.15')
  assert.match(status?.message ?? '', /consuming stream orders \(group g\) on redis 7\.0\.15/)
  await until(() => h.triggers.stats('shop', 'orders')?.backlog === 9, 'the sampled backlog')
  assert.deepEqual(h.triggers.consumers(), [{ namespace: 'shop', queue: 'orders', function: 'fulfil' }, { namespace: 'shop', queue: 'refunds', function: 'fulfil' }])
})

test('the connector\'s state is each trigger\'s condition; publishes are refused with 503 while it is away', async (t) => {
  const h = harness(t)
  h.triggers.setConsumers([plan('orders')])
  await until(() => h.triggers.status('shop', 'orders')?.state === 'Connected', 'connected')
  const connector = h.connectors[0] as FakeConnector
  connector.state({ state: 'disconnected', reason: 'connection reset', retryInMs: 400 })
  const down = h.triggers.status('shop', 'orders')
  assert.deepEqual([down?.state, down?.reason, down?.message], ['Disconnected', 'BrokerUnavailable', 'connection reset; trying again in 0.4s'])
  await assert.rejects(h.triggers.publishRecords('shop', 'orders', [{ body: { n: 1 } }]), (err: unknown) => err instanceof BrokerUnavailableError && err.retryAfterSeconds > 0)
  connector.state({ state: 'connected', server: 'redis 7.0.15' })
  assert.equal(h.triggers.status('shop', 'orders')?.state, 'Connected')
  const [result] = await h.triggers.publishRecords('shop', 'orders', [{ body: { n: 1 }, key: 'order-1' }])
  assert.deepEqual(result, { id: 'order-1', outcome: 'created' })
  assert.deepEqual(connector.published.map((m) => [m.id, Buffer.from(m.body).toString(), m.bodyType, m.source]), [['order-1', '{"n":1}', 'json', '/namespaces/shop/queues/orders']])
  assert.deepEqual(h.statuses.map((s) => s.state), ['Connected', 'Disconnected', 'Connected'])
})

test('a publish made while the trigger still starts (connected, its subscribe still creating the queue) waits for it and goes through', async (t) => {
  let open = (): void => {}
  const h = harness(t, {}, new Promise<void>((resolve) => { open = resolve }))
  h.triggers.setConsumers([plan('orders')])
  const publishing = h.triggers.publishRecords('shop', 'orders', [{ body: { n: 1 }, key: 'early' }])
  await until(() => h.connectors.length === 1, 'the connector is made')
  assert.equal(h.triggers.status('shop', 'orders')?.state, 'Connecting', 'connected, not yet subscribed')
  // A turn of the event loop with the subscribe held: a publish that waited for the connect alone would be refused by now.
  await new Promise((resolve) => setImmediate(resolve))
  open()
  assert.deepEqual(await publishing, [{ id: 'early', outcome: 'created' }])
  assert.deepEqual(h.connectors[0]?.published.map((m) => m.id), ['early'])
})

test('a stream that is not there fails the trigger with BrokerMissing, tried again until it is', async (t) => {
  const h = harness(t)
  h.triggers.setConsumers([plan('orders', { create: false })])
  await until(() => h.connectors.length > 0, 'a connector')
  ;(h.connectors[0] as FakeConnector).missing = true
  await until(() => h.triggers.status('shop', 'orders')?.reason === 'BrokerMissing', 'missing')
  assert.equal(h.triggers.status('shop', 'orders')?.state, 'Failed')
  for (const connector of h.connectors) connector.missing = false
  // The restart makes a new connector (the failed one was released): it finds the stream.
  await until(() => h.connectors.some((c) => !c.missing && c.subscriptions.length === 1) && h.triggers.status('shop', 'orders')?.state === 'Connected', 'connected once the stream is there')
})

test('credentials come from the Secret; a change of them reopens the trigger, a missing Secret fails it', async (t) => {
  const secrets: Record<string, Record<string, string>> = { creds: { username: 'u', password: 'pass-one' } }
  const h = harness(t, secrets)
  h.triggers.setConsumers([plan('orders', { secret: 'creds' })])
  await until(() => h.triggers.status('shop', 'orders')?.state === 'Connected', 'connected')
  assert.equal(h.connectors[0]?.url, 'redis://u:pass-one@127.0.0.1:6379')
  assert.equal(h.triggers.status('shop', 'orders')?.url, 'redis://127.0.0.1:6379', 'the status shows the URL without credentials')
  ;(h.connectors[0] as FakeConnector).state({ state: 'disconnected', reason: 'cannot reach redis://u:pass-one@127.0.0.1:6379 (auth pass-one refused)', retryInMs: 100 })
  assert.equal(h.triggers.status('shop', 'orders')?.message, 'cannot reach redis://***@127.0.0.1:6379 (auth *** refused); trying again in 0.1s')
  ;(h.connectors[0] as FakeConnector).state({ state: 'connected', server: 'redis 7.0.15' })
  secrets.creds = { username: 'u', password: 'pass-two' }
  h.triggers.setConsumers([plan('orders', { secret: 'creds' })])
  await until(() => h.connectors.length === 2 && h.triggers.status('shop', 'orders')?.state === 'Connected', 'reopened')
  assert.equal(h.connectors[1]?.url, 'redis://u:pass-two@127.0.0.1:6379')
  await until(() => h.connectors[0]?.closed === true, 'the old connector closed')
  delete secrets.creds
  h.triggers.setConsumers([plan('orders', { secret: 'creds' })])
  assert.equal(h.triggers.status('shop', 'orders')?.reason, 'SecretMissing')
})

test('unchanged settings keep the subscription across a plan; a trigger that goes away closes it, the last one its connector', async (t) => {
  const h = harness(t)
  h.triggers.setConsumers([plan('orders')])
  await until(() => h.triggers.status('shop', 'orders')?.state === 'Connected', 'connected')
  h.triggers.setConsumers([{ ...plan('orders'), batch: 50, perInstance: 20 }])
  const connector = h.connectors[0] as FakeConnector
  assert.equal(connector.subscriptions.length, 1, 'the same subscription')
  h.triggers.setConsumers([])
  await until(() => connector.closed, 'the connector closed')
  assert.equal(connector.subscriptions[0]?.closed, true)
  assert.equal(h.triggers.status('shop', 'orders'), undefined)
})
