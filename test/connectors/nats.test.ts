// The NATS JetStream connector against the real nats-server on 127.0.0.1:4222:
// the connector contract, then what is NATS's own — messages a plain client
// published, missing streams and consumers, the consumer Roost creates, and
// the subject it publishes to. Every stream is named for this run and deleted
// afterwards (its consumers go with it).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import { connect, headers } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream'
import type { JetStreamManager } from '@nats-io/jetstream'
import { BrokerMissingError, BrokerUnavailableError } from '../../src/errors/index.js'
import { createConnector } from '../../src/connectors/index.js'
import type { BrokerMessage, ConnectorState, QueueBinding } from '../../src/connectors/index.js'
import { relayedUrl, TcpRelay } from '../helpers/tcp-relay.js'
import { BOUND_MS, fetchNothing, fetchOne, opener, outgoingOf } from './broker-cases.js'
import { connectorContract, LEASE_MS } from './contract.js'

const NATS_URL = 'nats://127.0.0.1:4222'
const RUN = `roost-test-${randomBytes(4).toString('hex')}`
const CONSUMER = 'roost-test'

let nc: NatsConnection
let jsm: JetStreamManager

before(async () => {
  nc = await connect({ servers: '127.0.0.1:4222' })
  jsm = await jetstreamManager(nc)
})

after(async () => {
  // Whatever a failed case left behind goes too.
  for await (const name of jsm.streams.names()) {
    if (name.startsWith(RUN)) await jsm.streams.delete(name)
  }
  await nc.close()
})

function binding (url: string, name: string, overrides: Partial<QueueBinding> = {}): QueueBinding {
  const stream = `${RUN}-${name}`
  return {
    connector: 'nats', namespace: 'default', queue: stream, url, create: true, maxAttempts: 5, leaseMs: LEASE_MS,
    stream, subject: `${RUN}.${name}.>`, consumer: CONSUMER, ...overrides
  }
}

async function cleanup (queue: QueueBinding): Promise<void> {
  try {
    await jsm.streams.delete(queue.stream as string)
  } catch (err) {
    if (!/stream not found/i.test(String(err))) throw err
  }
}

connectorContract({
  kind: 'nats',
  url: NATS_URL,
  network: true,
  connector: (url) => createConnector({ kind: 'nats', url }),
  binding,
  cleanup,
  childOptions: (url) => ({ kind: 'nats', url })
})

const open = opener('nats', NATS_URL, binding, cleanup)
const outgoing = outgoingOf('nats')

const text = (message: BrokerMessage): string => Buffer.from(message.body).toString('utf8')
const encode = (value: string): Uint8Array => new TextEncoder().encode(value)

describe('messages a plain NATS client published are delivered whole', () => {
  test('without Roost\'s headers: attributes are derived from the stream and sequence, the body typed by its bytes', async (t) => {
    const { queue, subscription } = await open(t, 'foreign')
    const js = (await jetstreamManager(nc)).jetstream()
    const subject = `${RUN}.foreign.orders`
    const json = await js.publish(subject, encode('{"sku":"A-1","qty":2}'))
    const plain = await js.publish(subject, encode('not json at all'))
    const bytes = await js.publish(subject, new Uint8Array([0xff, 0xfe, 0x00, 0x81]))
    const received = new Map<string, BrokerMessage>()
    while (received.size < 3) {
      const message = await fetchOne(subscription)
      received.set(message.id, message)
      assert.equal(await subscription.ack(message), 'settled')
    }
    const first = received.get(String(json.seq)) as BrokerMessage
    assert.ok(first !== undefined, `the id is the stream sequence (got ${[...received.keys()].join(', ')})`)
    assert.equal(first.bodyType, 'json')
    assert.deepEqual(JSON.parse(text(first)), { sku: 'A-1', qty: 2 })
    assert.equal(first.type, 'dev.roost.message')
    assert.equal(first.source, `/brokers/nats/${queue.stream as string}`)
    assert.equal(first.contentType, 'application/json')
    assert.equal(first.attempt, 1)
    assert.ok(Math.abs(first.publishedAt - Date.now()) < 60_000, `publishedAt ${first.publishedAt} is when the stream stored it`)
    const second = received.get(String(plain.seq)) as BrokerMessage
    assert.equal(second.bodyType, 'text')
    assert.equal(text(second), 'not json at all')
    const third = received.get(String(bytes.seq)) as BrokerMessage
    assert.equal(third.bodyType, 'bytes')
    assert.deepEqual(Buffer.from(third.body), Buffer.from([0xff, 0xfe, 0x00, 0x81]))
  })

  test('with CloudEvents headers of its own: they are its attributes; garbage in them is replaced, never refused', async (t) => {
    const { subscription } = await open(t, 'foreign-headers')
    const js = (await jetstreamManager(nc)).jetstream()
    const good = headers()
    good.set('ce-id', 'order-7')
    good.set('ce-type', 'com.example.order')
    good.set('ce-source', '/shop')
    good.set('ce-tenant', 'acme')
    good.set('Content-Type', 'text/plain')
    await js.publish(`${RUN}.foreign-headers.x`, encode('hello'), { headers: good })
    const bad = headers()
    bad.set('ce-id', 'g2')
    bad.set('x-roost-body-type', 'json')
    bad.set('ce-Not_Valid', 'x')
    await js.publish(`${RUN}.foreign-headers.x`, encode('{not json'), { headers: bad })
    const order = await fetchOne(subscription)
    assert.equal(order.id, 'order-7')
    assert.equal(order.type, 'com.example.order')
    assert.equal(order.source, '/shop')
    assert.deepEqual(order.attributes, { tenant: 'acme' })
    assert.equal(order.contentType, 'text/plain')
    assert.equal(order.bodyType, 'text')
    assert.equal(await subscription.ack(order), 'settled')
    const garbage = await fetchOne(subscription)
    assert.equal(garbage.id, 'g2')
    assert.equal(garbage.bodyType, 'text', 'bytes that are not JSON are not delivered as json')
    assert.deepEqual(garbage.attributes, {})
    assert.equal(await subscription.ack(garbage), 'settled')
  })
})

describe('NATS\'s own ways', () => {
  test('the consumer Roost creates: durable, pull, explicit acks, the lease as ack wait, the subject as filter, no delivery limit', async (t) => {
    const { queue } = await open(t, 'consumer-config')
    const info = await jsm.consumers.info(queue.stream as string, CONSUMER)
    assert.equal(info.config.durable_name, CONSUMER)
    assert.equal(info.config.deliver_subject, undefined, 'a pull consumer')
    assert.equal(info.config.ack_policy, AckPolicy.Explicit)
    assert.equal(info.config.ack_wait, LEASE_MS * 1_000_000)
    assert.equal(info.config.filter_subject, queue.subject)
    assert.equal(info.config.max_deliver, -1, 'JetStream never dead-letters before Roost does')
    const stream = await jsm.streams.info(queue.stream as string)
    assert.deepEqual(stream.config.subjects, [queue.subject])
  })

  test('a publish goes to the filter subject with its wildcards as `roost`, with Nats-Msg-Id: the same id twice is stored once', async (t) => {
    const { connector, queue, subscription } = await open(t, 'dedup')
    await connector.publish(queue, [outgoing('once-1', { n: 1 })])
    await connector.publish(queue, [outgoing('once-1', { n: 1 })])
    const stream = await jsm.streams.info(queue.stream as string)
    assert.equal(stream.state.messages, 1, 'the second publish was a duplicate')
    const stored = await jsm.streams.getMessage(queue.stream as string, { seq: 1 })
    assert.equal(stored?.subject, `${RUN}.dedup.roost`)
    assert.equal(stored?.header.get('Nats-Msg-Id'), 'once-1')
    const message = await fetchOne(subscription)
    assert.equal(message.id, 'once-1')
    assert.equal(await subscription.ack(message), 'settled')
    await fetchNothing(subscription, LEASE_MS * 1.5)
  })

  test('a retry delayed past the lease stays away for its delay, then comes back on the next attempt', async (t) => {
    const { connector, queue, subscription } = await open(t, 'long-delay')
    await connector.publish(queue, [outgoing('later-1', {})])
    const first = await fetchOne(subscription)
    const delayMs = LEASE_MS * 2
    const since = Date.now()
    assert.equal(await subscription.retry(first, delayMs), 'settled')
    await fetchNothing(subscription, LEASE_MS * 1.5)
    const again = await fetchOne(subscription)
    assert.ok(Date.now() - since >= delayMs - 50, `came back after ${Date.now() - since} ms, not before its delay of ${delayMs} ms`)
    assert.equal(again.attempt, 2)
    assert.equal(await subscription.ack(again), 'settled')
  })

  test('an aborted fetch answers [] at once, and what its pull brings later goes back to the consumer uncounted', async (t) => {
    const { connector, queue, subscription } = await open(t, 'abort')
    const controller = new AbortController()
    const fetching = subscription.fetch(10, 120_000, controller.signal)
    setTimeout(() => controller.abort(), 100)
    let timer: NodeJS.Timeout | undefined
    const stillWaiting = new Promise((resolve) => { timer = setTimeout(() => resolve('still waiting'), BOUND_MS) })
    const outcome = await Promise.race([fetching, stillWaiting])
    clearTimeout(timer)
    assert.deepEqual(outcome, [])
    // The server still holds the pull: the message goes to it, and is given back.
    await connector.publish(queue, [outgoing('stray-1', {})])
    const message = await fetchOne(subscription)
    assert.equal(message.id, 'stray-1')
    assert.equal(message.attempt, 1, 'a delivery to a pull given up uses no attempt')
    assert.equal(await subscription.ack(message), 'settled')
  })

  test('a stream or consumer deleted under a subscription: fetch and backlog reject with BrokerMissingError naming them', async (t) => {
    const { queue, subscription } = await open(t, 'gone')
    const missing = (err: unknown): boolean => {
      assert.ok(err instanceof BrokerMissingError, String(err))
      assert.ok(err.message.includes(queue.stream as string) && err.message.includes(CONSUMER), err.message)
      return true
    }
    await jsm.consumers.delete(queue.stream as string, CONSUMER)
    await assert.rejects(subscription.fetch(1, 100), missing)
    await assert.rejects(subscription.backlog(), missing)
    await jsm.streams.delete(queue.stream as string)
    await assert.rejects(subscription.fetch(1, 100), missing)
    await assert.rejects(subscription.backlog(), missing)
  })
})

describe('outages, as NATS has them', () => {
  /** A connector through a relay that the test cuts, and its states; all closed and removed after the test. */
  async function relayed (t: TestContext, name: string, overrides: Partial<QueueBinding> = {}) {
    const relay = await TcpRelay.start(4222)
    const connector = createConnector({ kind: 'nats', url: relayedUrl(NATS_URL, relay) })
    const states: ConnectorState[] = []
    connector.onState((state) => states.push(state))
    const queue = binding(NATS_URL, name, overrides)
    t.after(async () => {
      await connector.close()
      await relay.close()
      await cleanup(queue)
    })
    await connector.connect()
    const subscription = await connector.subscribe({ ...queue, url: relayedUrl(NATS_URL, relay) })
    const back = async (): Promise<void> => {
      const from = states.length
      await relay.restore()
      const deadline = Date.now() + 60_000
      while (!states.slice(from).some((s) => s.state === 'connected')) {
        if (Date.now() > deadline) throw new Error('the connection did not come back')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    return { relay, connector, queue, subscription, back }
  }

  test('a fetch waiting when the connection is cut rejects with BrokerUnavailableError, long before its wait is over', async (t) => {
    const { relay, subscription, back } = await relayed(t, 'cut-fetch')
    const fetching = subscription.fetch(10, 120_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    await relay.cut()
    let timer: NodeJS.Timeout | undefined
    const stillWaiting = new Promise((resolve) => { timer = setTimeout(() => resolve('still waiting'), BOUND_MS) })
    const outcome = await Promise.race([fetching.then((value) => value, (err: unknown) => err), stillWaiting])
    clearTimeout(timer)
    assert.ok(outcome instanceof BrokerUnavailableError, `rejected with BrokerUnavailableError, got ${String(outcome)}`)
    await back()
  })

  test('a message held across a short outage is settled once the connection is back, while its lease lasts', async (t) => {
    const { relay, connector, queue, subscription, back } = await relayed(t, 'held-across', { leaseMs: 20_000 })
    await connector.publish(queue, [outgoing('across-1', {})])
    const message = await fetchOne(subscription)
    await relay.cut()
    await assert.rejects(subscription.ack(message), BrokerUnavailableError, 'nothing is claimed, and nothing is sent, while the connection is down')
    await back()
    assert.equal(await subscription.ack(message), 'settled')
    await fetchNothing(subscription, 1_000)
    const info = await jsm.consumers.info(queue.stream as string, CONSUMER)
    assert.deepEqual([info.num_pending, info.num_ack_pending], [0, 0])
  })
})

describe('create: false', () => {
  test('a stream that is not there: subscribe and publish reject with BrokerMissingError naming it, and create nothing', async (t) => {
    const connector = createConnector({ kind: 'nats', url: NATS_URL })
    t.after(() => connector.close())
    const queue = binding(NATS_URL, 'absent', { create: false })
    const names = (err: unknown): boolean => err instanceof BrokerMissingError && err.message.includes(queue.stream as string)
    await assert.rejects(connector.subscribe(queue), names)
    await assert.rejects(connector.publish(queue, [outgoing('nowhere-1', {})]), names)
    await assert.rejects(jsm.streams.info(queue.stream as string), /stream not found/i)
  })

  test('a stream without the consumer: subscribe rejects with BrokerMissingError naming the consumer, and creates none', async (t) => {
    const connector = createConnector({ kind: 'nats', url: NATS_URL })
    const queue = binding(NATS_URL, 'no-consumer', { create: false })
    t.after(async () => {
      await connector.close()
      await cleanup(queue)
    })
    await jsm.streams.add({ name: queue.stream as string, subjects: [queue.subject as string] })
    await assert.rejects(connector.subscribe(queue), (err: unknown) => {
      assert.ok(err instanceof BrokerMissingError, String(err))
      assert.ok(err.message.includes(CONSUMER) && err.message.includes(queue.stream as string), err.message)
      return true
    })
    await assert.rejects(jsm.consumers.info(queue.stream as string, CONSUMER), /consumer not found/i)
  })

  test('an existing pull consumer is used as it is, its ack wait as the lease', async (t) => {
    const connector = createConnector({ kind: 'nats', url: NATS_URL })
    const queue = binding(NATS_URL, 'existing', { create: false })
    t.after(async () => {
      await connector.close()
      await cleanup(queue)
    })
    await jsm.streams.add({ name: queue.stream as string, subjects: [queue.subject as string] })
    await jsm.consumers.add(queue.stream as string, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000, filter_subject: queue.subject })
    const subscription = await connector.subscribe(queue)
    await connector.publish(queue, [outgoing('existing-1', {})])
    const message = await fetchOne(subscription)
    assert.equal(await subscription.ack(message), 'settled')
    assert.equal((await jsm.consumers.info(queue.stream as string, CONSUMER)).config.ack_wait, 2_000_000_000, 'left as it was')
  })
})

test('capability: the server is named with the version its INFO reports, with the +TERM warning before 2.11', async (t) => {
  const connector = createConnector({ kind: 'nats', url: NATS_URL })
  t.after(() => connector.close())
  const capabilities = await connector.connect()
  assert.equal(capabilities.server, `nats-server ${nc.info?.version as string}`)
  const [major, minor] = (nc.info?.version as string).split('.').map(Number) as [number, number]
  if (major === 2 && minor < 11) assert.ok(capabilities.warnings.some((w) => w.includes('+TERM')), capabilities.warnings.join('; '))
})

test('a first connect to a server that is not there rejects with BrokerUnavailableError, without the URL\'s credentials', async (t) => {
  const relay = await TcpRelay.start(4222)
  t.after(() => relay.close())
  await relay.cut()
  const connector = createConnector({ kind: 'nats', url: `nats://roost:s3cret-word@127.0.0.1:${relay.listeningPort}` })
  t.after(() => connector.close())
  await assert.rejects(connector.connect(), (err: unknown) => {
    assert.ok(err instanceof BrokerUnavailableError, String(err))
    assert.ok(err.message.includes(`127.0.0.1:${relay.listeningPort}`), err.message)
    assert.ok(!err.message.includes('s3cret-word'), `no password in: ${err.message}`)
    return true
  })
})
