// The RabbitMQ connector against the real server on 127.0.0.1:5672: the
// connector contract, then what is RabbitMQ's own — messages plain amqplib
// published, the quorum queue and its dead-letter queue, delayed retries
// through the delay queues, a missing queue, and a cleanup that leaves no
// queue or exchange behind. Every name is this run's and deleted afterwards.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import amqp from 'amqplib'
import type { Channel, ChannelModel } from 'amqplib'
import { BrokerMissingError, BrokerUnavailableError, ValidationError } from '../../src/errors/index.js'
import { createConnector } from '../../src/connectors/index.js'
import type { BrokerMessage, QueueBinding } from '../../src/connectors/index.js'
import { delayBucket, delayQueueName, rabbitNames } from '../../src/connectors/rabbit-topology.js'
import { relayedUrl, TcpRelay } from '../helpers/tcp-relay.js'
import { BOUND_MS, fetchNothing, fetchOne, opener, outgoingOf } from './broker-cases.js'
import { connectorContract, LEASE_MS } from './contract.js'

const RABBIT_URL = 'amqp://guest:guest@127.0.0.1:5672'
const RUN = `roost-test-${randomBytes(4).toString('hex')}`
/** Every delay the contract and these cases retry or release with: their delay queues are removed with the queue. */
const DELAYS_MS = [300, LEASE_MS * 2]

let plain: ChannelModel

before(async () => {
  plain = await amqp.connect(RABBIT_URL)
  plain.on('error', () => {})
})

after(async () => {
  await plain.close()
})

function binding (url: string, name: string, overrides: Partial<QueueBinding> = {}): QueueBinding {
  const queue = `${RUN}-${name}`
  return { connector: 'rabbitmq', namespace: 'default', queue, url, create: true, maxAttempts: 5, leaseMs: LEASE_MS, rabbitQueue: queue, ...overrides }
}

/** Every queue and exchange the connector may have made for the binding. */
function createdBy (queue: QueueBinding): { queues: string[], exchanges: string[] } {
  const names = rabbitNames(queue.rabbitQueue as string)
  return {
    queues: [names.queue, names.deadQueue, ...DELAYS_MS.map((ms) => delayQueueName(names.queue, delayBucket(ms)))],
    exchanges: [names.deadExchange]
  }
}

/** Runs `work` on a channel of its own: a refused operation closes the channel it was made on. */
async function onChannel<T> (work: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await plain.createChannel()
  channel.on('error', () => {})
  try {
    return await work(channel)
  } finally {
    await channel.close().catch(() => {})
  }
}

/** Publishes with plain amqplib and waits for the broker's confirms: an unconfirmed publish is not known to have arrived. */
async function sendPlain (queue: string, messages: Array<[Buffer, amqp.Options.Publish?]>): Promise<void> {
  const channel = await plain.createConfirmChannel()
  channel.on('error', () => {})
  try {
    for (const [content, options] of messages) channel.sendToQueue(queue, content, options)
    await channel.waitForConfirms()
  } finally {
    await channel.close().catch(() => {})
  }
}

async function exists (kind: 'queue' | 'exchange', name: string): Promise<boolean> {
  try {
    await onChannel((channel) => kind === 'queue' ? channel.checkQueue(name) : channel.checkExchange(name))
    return true
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false
    throw err
  }
}

async function cleanup (queue: QueueBinding): Promise<void> {
  const { queues, exchanges } = createdBy(queue)
  await onChannel(async (channel) => {
    for (const name of queues) await channel.deleteQueue(name)
    for (const name of exchanges) await channel.deleteExchange(name)
  })
}

connectorContract({
  kind: 'rabbitmq',
  url: RABBIT_URL,
  network: true,
  connector: (url) => createConnector({ kind: 'rabbitmq', url }),
  binding,
  cleanup,
  childOptions: (url) => ({ kind: 'rabbitmq', url })
})

const open = opener('rabbitmq', RABBIT_URL, binding, cleanup)
const outgoing = outgoingOf('rabbitmq')

/** A message straight from the queue with plain amqplib, acknowledged. */
async function getPlain (queue: string, timeoutMs = BOUND_MS): Promise<amqp.GetMessage> {
  return await onChannel(async (channel) => {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const message = await channel.get(queue, { noAck: true })
      if (message !== false) return message
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`nothing in ${queue} within ${timeoutMs} ms`)
  })
}

function text (message: BrokerMessage): string {
  return Buffer.from(message.body).toString('utf8')
}

describe('messages other clients published', () => {
  test('a message plain amqplib published without Roost\'s headers is delivered with derived attributes', async (t) => {
    const { queue, subscription } = await open(t, 'foreign')
    const name = queue.rabbitQueue as string
    await sendPlain(name, [
      [Buffer.from('{"sku":"A-1"}'), { messageId: 'order-1' }],
      [Buffer.from('not json at all'), { contentType: 'text/plain', timestamp: Math.floor(Date.now() / 1000) }],
      [Buffer.from([0xff, 0xfe, 0x00, 0x81])]
    ])
    const received: BrokerMessage[] = []
    while (received.length < 3) {
      const message = await fetchOne(subscription)
      received.push(message)
      assert.equal(await subscription.ack(message), 'settled')
    }
    const json = received.find((m) => m.id === 'order-1') as BrokerMessage
    assert.ok(json !== undefined, 'the message-id is the id')
    assert.equal(json.bodyType, 'json')
    assert.equal(json.contentType, 'application/json')
    assert.equal(json.type, 'dev.roost.message')
    assert.equal(json.source, `/brokers/rabbitmq/${name}`)
    assert.deepEqual(json.attributes, {})
    assert.equal(json.attempt, 1)
    const plainText = received.find((m) => m.bodyType === 'text') as BrokerMessage
    assert.equal(text(plainText), 'not json at all')
    assert.equal(plainText.contentType, 'text/plain')
    assert.match(plainText.id, /^amqp-[0-9a-f]{32}$/, 'a message without message-id gets an id derived from it')
    const bytes = received.find((m) => m.bodyType === 'bytes') as BrokerMessage
    assert.deepEqual(Buffer.from(bytes.body), Buffer.from([0xff, 0xfe, 0x00, 0x81]))
  })

  test('a derived id is the same when the message comes again', async (t) => {
    const { queue, subscription } = await open(t, 'foreign-again')
    await sendPlain(queue.rabbitQueue as string, [[Buffer.from('again')]])
    const first = await fetchOne(subscription)
    assert.equal(await subscription.retry(first, 0), 'settled')
    const second = await fetchOne(subscription)
    assert.equal(second.id, first.id)
    assert.equal(second.attempt, 2)
    assert.equal(await subscription.release(second, 300), 'settled')
    const third = await fetchOne(subscription)
    assert.equal(third.id, first.id, 'a copy made for a delayed release keeps the id')
    assert.equal(third.attempt, 2)
    assert.equal(await subscription.ack(third), 'settled')
  })
})

describe('RabbitMQ\'s own ways', () => {
  test('the queue is a quorum queue: a plain redeclare with other arguments is refused', async (t) => {
    const { queue } = await open(t, 'quorum')
    await assert.rejects(onChannel((channel) => channel.assertQueue(queue.rabbitQueue as string, { durable: true })),
      (err: unknown) => (err as { code?: number }).code === 406)
  })

  test('dead: the message lands in <queue>.dead through the dead-letter exchange', async (t) => {
    const { connector, queue, subscription } = await open(t, 'dead-letter')
    await connector.publish(queue, [outgoing('poison-1', { n: 1 })])
    const message = await fetchOne(subscription)
    assert.equal(await subscription.dead(message, 'it can never succeed'), 'settled')
    const dead = await getPlain(rabbitNames(queue.rabbitQueue as string).deadQueue)
    assert.equal(dead.properties.messageId, 'poison-1')
    assert.equal(dead.content.toString('utf8'), '{"n":1}')
    assert.equal(dead.properties.headers?.['ce-id'], 'poison-1')
    const death = dead.properties.headers?.['x-death']?.[0]
    assert.equal(death?.reason, 'rejected')
    assert.equal(death?.queue, queue.rabbitQueue)
    await fetchNothing(subscription, LEASE_MS * 1.5)
  })

  test('the delivery limit is above maxAttempts: retried at once, a message reaches its last attempt', async (t) => {
    const { connector, queue, subscription } = await open(t, 'limit', { maxAttempts: 3 })
    await connector.publish(queue, [outgoing('limit-1', {})])
    for (let attempt = 1; attempt < 3; attempt++) {
      const message = await fetchOne(subscription)
      assert.equal(message.attempt, attempt)
      assert.equal(await subscription.retry(message, 0), 'settled')
    }
    const last = await fetchOne(subscription)
    assert.equal(last.attempt, 3, 'the broker did not dead-letter it before Roost could')
    assert.equal(await subscription.ack(last), 'settled')
  })

  test('a message no handler ever answers for is dead-lettered by the broker once its leases ran out past the limit', async (t) => {
    const leaseMs = 200
    const { connector, queue, subscription } = await open(t, 'hung', { maxAttempts: 1, leaseMs })
    await connector.publish(queue, [outgoing('hung-1', {})])
    // x-delivery-limit is maxAttempts + 1 = 2: the third return is one too many.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const message = await fetchOne(subscription)
      assert.equal(message.attempt, attempt)
    }
    const dead = await getPlain(rabbitNames(queue.rabbitQueue as string).deadQueue)
    assert.equal(dead.properties.messageId, 'hung-1')
    assert.equal(dead.properties.headers?.['x-death']?.[0]?.reason, 'delivery_limit')
  })

  test('a retry delayed past the lease waits in its delay queue, then comes back on the next attempt', async (t) => {
    const { connector, queue, subscription } = await open(t, 'long-delay')
    await connector.publish(queue, [outgoing('later-1', {})])
    const first = await fetchOne(subscription)
    const delayMs = LEASE_MS * 2
    const since = Date.now()
    assert.equal(await subscription.retry(first, delayMs), 'settled')
    assert.ok(await exists('queue', delayQueueName(queue.rabbitQueue as string, delayBucket(delayMs))), 'the delay queue is there')
    await fetchNothing(subscription, LEASE_MS * 1.5)
    const again = await fetchOne(subscription)
    assert.ok(Date.now() - since >= delayMs - 50, `came back after ${Date.now() - since} ms, not before its delay of ${delayMs} ms`)
    assert.equal(again.attempt, 2)
    assert.equal(await subscription.ack(again), 'settled')
  })

  test('a release is carried in the message: another consumer that gets it sees the same attempt', async (t) => {
    const { connector, queue, subscription } = await open(t, 'release-shared')
    await connector.publish(queue, [outgoing('shared-1', {})])
    const first = await fetchOne(subscription)
    assert.equal(await subscription.retry(first, 0), 'settled')
    const second = await fetchOne(subscription)
    assert.equal(second.attempt, 2)
    assert.equal(await subscription.release(second, 0), 'settled')
    await subscription.close()
    const other = await open(t, 'release-shared')
    const again = await fetchOne(other.subscription)
    assert.equal(again.id, 'shared-1')
    assert.equal(again.attempt, 2, 'a release uses no attempt, whichever consumer fetches next')
    assert.equal(await other.subscription.ack(again), 'settled')
  })

  test('a subscription that stops fetching gives back what the broker pushed ahead, uncounted', async (t) => {
    const { connector, queue, subscription } = await open(t, 'pushed-ahead', { prefetch: 10 })
    await connector.publish(queue, Array.from({ length: 4 }, (_, i) => outgoing(`ahead-${i}`, { i })))
    const [first] = await subscription.fetch(1, BOUND_MS)
    assert.ok(first !== undefined)
    const other = await open(t, 'pushed-ahead')
    const seen: BrokerMessage[] = []
    const deadline = Date.now() + BOUND_MS
    while (seen.length < 3 && Date.now() < deadline) {
      assert.equal(await subscription.working(first), 'settled')
      for (const m of await other.subscription.fetch(10, 500)) {
        seen.push(m)
        assert.equal(await other.subscription.ack(m), 'settled')
      }
    }
    assert.deepEqual(seen.map((m) => m.id).sort(), ['ahead-1', 'ahead-2', 'ahead-3'])
    assert.deepEqual(seen.map((m) => m.attempt), [1, 1, 1])
    assert.equal(await subscription.ack(first), 'settled')
  })

  test('an aborted fetch returns [] at once', async (t) => {
    const { subscription } = await open(t, 'abort')
    const controller = new AbortController()
    const fetching = subscription.fetch(10, 120_000, controller.signal)
    setTimeout(() => controller.abort(), 100)
    let timer: NodeJS.Timeout | undefined
    const stillWaiting = new Promise((resolve) => { timer = setTimeout(() => resolve('still waiting'), BOUND_MS) })
    const outcome = await Promise.race([fetching, stillWaiting])
    clearTimeout(timer)
    assert.deepEqual(outcome, [])
  })

  test('closing gives back what a subscription held on the attempt it was on', async (t) => {
    const { connector, queue, subscription } = await open(t, 'close-uncounted')
    await connector.publish(queue, [outgoing('held-1', {}), outgoing('held-2', {})])
    const first = await fetchOne(subscription)
    assert.equal(await subscription.retry(first, 0), 'settled')
    const held: BrokerMessage[] = []
    while (held.length < 2) held.push(await fetchOne(subscription))
    await subscription.close()
    const other = await open(t, 'close-uncounted')
    const again = new Map<string, number>()
    while (again.size < 2) {
      const message = await fetchOne(other.subscription)
      again.set(message.id, message.attempt)
      assert.equal(await other.subscription.ack(message), 'settled')
    }
    assert.deepEqual(Object.fromEntries(again), Object.fromEntries(held.map((m) => [m.id, m.attempt])))
    assert.equal(again.get('held-1'), 2)
  })

  test('ackMany of a batch while an earlier one is still held acknowledges that batch only', async (t) => {
    // Through a relay, so that the connection can drop with the early batch unacknowledged: the broker requeues what it still holds.
    const relay = await TcpRelay.start(5672)
    const connector = createConnector({ kind: 'rabbitmq', url: relayedUrl(RABBIT_URL, relay) })
    const queue = binding(RABBIT_URL, 'ack-in-order')
    t.after(async () => {
      await connector.close()
      await relay.close()
      await cleanup(queue)
    })
    await connector.connect()
    const subscription = await connector.subscribe(queue)
    await connector.publish(queue, ['early-1', 'early-2', 'late-1', 'late-2'].map((id) => outgoing(id, {})))
    const fetched: BrokerMessage[] = []
    while (fetched.length < 4) fetched.push(await fetchOne(subscription))
    const [early1, early2, late1, late2] = fetched as [BrokerMessage, BrokerMessage, BrokerMessage, BrokerMessage]
    assert.deepEqual([early1.id, early2.id], ['early-1', 'early-2'])
    // Their delivery tags are above the early ones': one ack with `multiple` up to them would take those too.
    assert.deepEqual(await subscription.ackMany([late1, late2]), ['settled', 'settled'])
    await relay.cut()
    const requeued = [(await getPlain(queue.rabbitQueue as string)).properties.messageId, (await getPlain(queue.rabbitQueue as string)).properties.messageId]
    assert.deepEqual(requeued.sort(), ['early-1', 'early-2'], 'the early batch was still unacknowledged')
  })

  test('headers too large for AMQP: the publish rejects with ValidationError and sends nothing', async (t) => {
    const { connector, queue } = await open(t, 'big-headers')
    const big = { ...outgoing('big-1', {}), attributes: { note: 'x'.repeat(70_000) } }
    await assert.rejects(connector.publish(queue, [big]), ValidationError)
    await connector.publish(queue, [outgoing('small-1', {})])
    assert.equal((await getPlain(queue.rabbitQueue as string)).properties.messageId, 'small-1', 'the connection still works, and only the small one is there')
  })

  test('the queue deleted under a subscription: fetch and backlog reject with BrokerMissingError naming it', async (t) => {
    const { queue, subscription } = await open(t, 'queue-gone')
    const name = queue.rabbitQueue as string
    const missing = (err: unknown): boolean => {
      assert.ok(err instanceof BrokerMissingError, String(err))
      assert.ok(err.message.includes(name), err.message)
      return true
    }
    await subscription.fetch(1, 50)
    await onChannel((channel) => channel.deleteQueue(name))
    await assert.rejects(subscription.backlog(), missing)
    await assert.rejects(async () => {
      // The consumer's cancel may come a moment after the delete.
      const deadline = Date.now() + BOUND_MS
      while (Date.now() < deadline) await subscription.fetch(1, 200)
    }, missing)
  })

  test('cleanup removes every queue and exchange the connector created', async (t) => {
    const { connector, queue, subscription } = await open(t, 'cleanup')
    await connector.publish(queue, [outgoing('c-1', {})])
    const message = await fetchOne(subscription)
    assert.equal(await subscription.retry(message, 300), 'settled')
    const again = await fetchOne(subscription)
    assert.equal(await subscription.dead(again, 'done'), 'settled')
    await connector.close()
    const { queues, exchanges } = createdBy(queue)
    assert.ok(await exists('queue', queues[0] as string) && await exists('exchange', exchanges[0] as string), 'the connector made them')
    await cleanup(queue)
    for (const name of queues) assert.equal(await exists('queue', name), false, `queue ${name} is gone`)
    for (const name of exchanges) assert.equal(await exists('exchange', name), false, `exchange ${name} is gone`)
  })
})

describe('create: false', () => {
  test('a queue that is not there: subscribe and publish reject with BrokerMissingError naming it, and create nothing', async (t) => {
    const connector = createConnector({ kind: 'rabbitmq', url: RABBIT_URL })
    t.after(() => connector.close())
    const queue = binding(RABBIT_URL, 'absent', { create: false })
    const name = queue.rabbitQueue as string
    const missing = (err: unknown): boolean => err instanceof BrokerMissingError && err.message.includes(name)
    await assert.rejects(connector.subscribe(queue), missing)
    await assert.rejects(connector.publish(queue, [outgoing('nowhere-1', {})]), missing)
    assert.equal(await exists('queue', name), false, 'no queue was made')
    assert.equal(await exists('exchange', rabbitNames(name).deadExchange), false, 'no exchange was made')
  })

  test('a queue someone else declared is consumed as it is', async (t) => {
    const queue = binding(RABBIT_URL, 'theirs', { create: false })
    const name = queue.rabbitQueue as string
    await onChannel((channel) => channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } }))
    const connector = createConnector({ kind: 'rabbitmq', url: RABBIT_URL })
    t.after(async () => {
      await connector.close()
      await cleanup(queue)
    })
    const subscription = await connector.subscribe(queue)
    await connector.publish(queue, [outgoing('theirs-1', {})])
    const message = await fetchOne(subscription)
    assert.equal(message.id, 'theirs-1')
    assert.equal(await subscription.ack(message), 'settled')
  })
})

test('a publish while the connection is cut rejects with BrokerUnavailableError, and works again once it is back', async (t) => {
  const relay = await TcpRelay.start(5672)
  t.after(() => relay.close())
  const connector = createConnector({ kind: 'rabbitmq', url: relayedUrl(RABBIT_URL, relay) })
  const states: string[] = []
  connector.onState((state) => states.push(state.state))
  const queue = binding(RABBIT_URL, 'publish-outage')
  t.after(async () => {
    await connector.close()
    await cleanup(queue)
  })
  await connector.connect()
  await connector.publish(queue, [outgoing('before-1', {})])
  await relay.cut()
  const deadline = Date.now() + BOUND_MS
  while (!states.includes('disconnected') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  await assert.rejects(connector.publish(queue, [outgoing('during-1', {})]), BrokerUnavailableError)
  await relay.restore()
  while (states.at(-1) !== 'connected' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  await connector.publish(queue, [outgoing('after-1', {})])
  const ids = [(await getPlain(queue.rabbitQueue as string)).properties.messageId, (await getPlain(queue.rabbitQueue as string)).properties.messageId]
  assert.deepEqual(ids, ['before-1', 'after-1'])
})

test('capability: the server is named with the version the handshake reports', async (t) => {
  const connector = createConnector({ kind: 'rabbitmq', url: RABBIT_URL })
  t.after(() => connector.close())
  const capabilities = await connector.connect()
  assert.equal(capabilities.server, `rabbitmq ${String(plain.connection.serverProperties.version)}`)
})

test('a first connect to a server that is not there rejects with BrokerUnavailableError, without the URL\'s credentials', async (t) => {
  const relay = await TcpRelay.start(5672)
  t.after(() => relay.close())
  await relay.cut()
  const connector = createConnector({ kind: 'rabbitmq', url: `amqp://roost:s3cret-word@127.0.0.1:${relay.listeningPort}` })
  t.after(() => connector.close())
  await assert.rejects(connector.connect(), (err: unknown) => {
    assert.ok(err instanceof BrokerUnavailableError, String(err))
    assert.ok(err.message.includes(`127.0.0.1:${relay.listeningPort}`), err.message)
    assert.ok(!err.message.includes('s3cret-word'), `no password in: ${err.message}`)
    return true
  })
})
