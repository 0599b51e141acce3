// The Redis Streams connector against the real server on 127.0.0.1:6379: the
// connector contract, then what is Redis's own — entries other clients wrote,
// garbage in Roost's fields, the dead copy, delays longer than a lease,
// releases counted across consumers, and missing streams and groups. Every key
// is named for this run and deleted afterwards.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { createClient } from 'redis'
import { BrokerMissingError, BrokerUnavailableError } from '../../src/errors/index.js'
import { createConnector } from '../../src/connectors/index.js'
import type { BrokerMessage, QueueBinding, Subscription } from '../../src/connectors/index.js'
import { redisKeys } from '../../src/connectors/redis-keys.js'
import { TcpRelay } from '../helpers/tcp-relay.js'
import { BOUND_MS, fetchNothing, fetchOne, opener, outgoingOf } from './broker-cases.js'
import { connectorContract, LEASE_MS } from './contract.js'

const REDIS_URL = 'redis://127.0.0.1:6379'
const RUN = `roost-test-${randomBytes(4).toString('hex')}`
const GROUP = 'roost-test'

const redis = createClient({ url: REDIS_URL })
redis.on('error', () => {})

before(async () => {
  await redis.connect()
})

after(async () => {
  // Whatever a failed case left behind goes too.
  const leftovers: string[] = []
  for await (const keys of redis.scanIterator({ MATCH: `${RUN}*`, COUNT: 1000 })) leftovers.push(...keys)
  if (leftovers.length > 0) await redis.del(leftovers)
  await redis.close()
})

function binding (url: string, name: string, overrides: Partial<QueueBinding> = {}): QueueBinding {
  const stream = `${RUN}-${name}`
  return { connector: 'redis', namespace: 'default', queue: stream, url, create: true, maxAttempts: 5, leaseMs: LEASE_MS, stream, group: GROUP, ...overrides }
}

async function cleanup (queue: QueueBinding): Promise<void> {
  const keys = redisKeys(queue.stream as string, queue.group as string)
  await redis.del([keys.stream, keys.delayed, keys.released, keys.dead])
}

connectorContract({
  kind: 'redis',
  url: REDIS_URL,
  network: true,
  connector: (url) => createConnector({ kind: 'redis', url }),
  binding,
  cleanup,
  childOptions: (url) => ({ kind: 'redis', url })
})

const open = opener('redis', REDIS_URL, binding, cleanup)
const outgoing = outgoingOf('redis')

async function waitForBacklog (subscription: Subscription, expected: { waiting: number, inFlight: number }): Promise<void> {
  const deadline = Date.now() + BOUND_MS
  let last = await subscription.backlog()
  while (last.waiting !== expected.waiting || last.inFlight !== expected.inFlight) {
    if (Date.now() > deadline) assert.deepEqual(last, expected, 'the backlog')
    await new Promise((resolve) => setTimeout(resolve, 50))
    last = await subscription.backlog()
  }
}

const text = (message: BrokerMessage): string => Buffer.from(message.body).toString('utf8')

describe('entries another client wrote are delivered whole', () => {
  test('one field: its value is the body, typed by its bytes; attributes are derived from the stream and entry', async (t) => {
    const { queue, subscription } = await open(t, 'foreign-one')
    const stream = queue.stream as string
    const jsonId = await redis.xAdd(stream, '*', { order: '{"sku":"A-1","qty":2}' })
    const textId = await redis.xAdd(stream, '*', { note: 'not json at all' })
    const bytesId = await redis.xAdd(stream, '*', { blob: Buffer.from([0xff, 0xfe, 0x00, 0x81]) })
    const received = new Map<string, BrokerMessage>()
    while (received.size < 3) {
      const message = await fetchOne(subscription)
      received.set(message.id, message)
      assert.equal(await subscription.ack(message), 'settled')
    }
    const json = received.get(jsonId) as BrokerMessage
    assert.equal(json.bodyType, 'json')
    assert.deepEqual(JSON.parse(text(json)), { sku: 'A-1', qty: 2 })
    assert.equal(json.type, 'dev.roost.message')
    assert.equal(json.source, `/brokers/redis/${stream}`)
    assert.equal(json.contentType, 'application/json')
    assert.equal(json.attempt, 1)
    assert.equal(json.publishedAt, Number(jsonId.split('-')[0]), 'publishedAt is the time in the entry id')
    const plain = received.get(textId) as BrokerMessage
    assert.equal(plain.bodyType, 'text')
    assert.equal(text(plain), 'not json at all')
    const bytes = received.get(bytesId) as BrokerMessage
    assert.equal(bytes.bodyType, 'bytes')
    assert.deepEqual(Buffer.from(bytes.body), Buffer.from([0xff, 0xfe, 0x00, 0x81]))
  })

  test('several fields: the body is a JSON object of all of them, a value that is not UTF-8 as base64', async (t) => {
    const { queue, subscription } = await open(t, 'foreign-many')
    const id = await redis.xAdd(queue.stream as string, '*', { sku: 'A-1', qty: '2', raw: Buffer.from([0xc3, 0x28]) })
    const message = await fetchOne(subscription)
    assert.equal(message.id, id)
    assert.equal(message.bodyType, 'json')
    assert.equal(message.contentType, 'application/json')
    assert.deepEqual(JSON.parse(text(message)), { sku: 'A-1', qty: '2', raw: { base64: Buffer.from([0xc3, 0x28]).toString('base64') } })
    assert.equal(await subscription.ack(message), 'settled')
  })

  test('a body with a ce-id beside it is read in Roost\'s layout: the other ce- fields are its attributes', async (t) => {
    const { queue, subscription } = await open(t, 'foreign-binary-mode')
    await redis.xAdd(queue.stream as string, '*', { 'ce-id': 'order-7', 'ce-type': 'com.example.order', 'ce-source': '/shop', 'ce-tenant': 'acme', body: 'hello' })
    const message = await fetchOne(subscription)
    assert.equal(message.id, 'order-7')
    assert.equal(message.type, 'com.example.order')
    assert.equal(message.source, '/shop')
    assert.deepEqual(message.attributes, { tenant: 'acme' })
    assert.equal(text(message), 'hello')
    assert.equal(message.bodyType, 'text')
    assert.equal(await subscription.ack(message), 'settled')
  })
})

describe('garbage in Roost\'s fields', () => {
  test('is delivered with attributes Roost can use, and the fetch never fails on it', async (t) => {
    const { queue, subscription } = await open(t, 'garbage')
    const stream = queue.stream as string
    const ids = [
      // Declared json, but the body is not.
      await redis.xAdd(stream, '*', { 'ce-id': 'g1', 'x-roost-body-type': 'json', 'content-type': 'application/json', body: '{not json' }),
      // An unknown body type, a control character in the content type, and an id far too long.
      await redis.xAdd(stream, '*', { 'ce-id': 'x'.repeat(5000), 'x-roost-body-type': 'weird', 'content-type': 'text/plain\r\nX: y', body: Buffer.from([0xff]) }),
      // Extension names that are no CloudEvents names, and bad percent-encoding.
      await redis.xAdd(stream, '*', { 'ce-id': 'g3', 'ce-Not_Valid': 'x', 'ce-source': '%zz', body: '' }),
      // A ce-id but no body: not Roost's layout, so every field is the body.
      await redis.xAdd(stream, '*', { 'ce-id': 'g4', 'x-roost-body-type': 'json' })
    ]
    const received: BrokerMessage[] = []
    while (received.length < ids.length) {
      const message = await fetchOne(subscription)
      received.push(message)
      assert.equal(await subscription.ack(message), 'settled')
    }
    const byId = new Map(received.map((m) => [m.id, m]))
    const g1 = byId.get('g1') as BrokerMessage
    assert.equal(g1.bodyType, 'text', 'bytes that are not JSON are not delivered as json')
    const g2 = byId.get(ids[1] as string) as BrokerMessage
    assert.ok(g2 !== undefined, 'an id too long is replaced by the entry id')
    assert.equal(g2.bodyType, 'bytes')
    const g3 = byId.get('g3') as BrokerMessage
    assert.deepEqual(g3.attributes, {})
    assert.equal(g3.source, '%zz')
    const g4 = byId.get(ids[3] as string) as BrokerMessage
    assert.deepEqual(JSON.parse(text(g4)), { 'ce-id': 'g4', 'x-roost-body-type': 'json' })
  })
})

describe('Redis\'s own ways', () => {
  test('dead: the entry is acknowledged and copied to <stream>:dead with the reason', async (t) => {
    const { connector, queue, subscription } = await open(t, 'dead-copy')
    await connector.publish(queue, [outgoing('poison-1', { n: 1 })])
    const message = await fetchOne(subscription)
    assert.equal(await subscription.dead(message, 'it can never succeed'), 'settled')
    const keys = redisKeys(queue.stream as string, GROUP)
    const [copy] = (await redis.xRange(keys.dead, '-', '+')) ?? []
    assert.ok(copy !== undefined, 'a copy is in the dead stream')
    assert.equal(copy.message['x-roost-dead-reason'], 'it can never succeed')
    assert.equal(copy.message['x-roost-dead-group'], GROUP)
    assert.equal(copy.message['ce-id'], 'poison-1')
    assert.equal(copy.message.body, '{"n":1}')
    const [original] = (await redis.xRange(queue.stream as string, '-', '+')) ?? []
    assert.equal(copy.message['x-roost-dead-id'], original?.id)
    assert.equal((await redis.xPending(queue.stream as string, GROUP)).pending, 0, 'nothing is pending')
  })

  test('ackMany settles a batch in one call: in stream order or not, and an entry another consumer took is refused alone', async (t) => {
    const { connector, queue, subscription } = await open(t, 'ack-many')
    const names = ['b1', 'b2', 'b3', 'b4', 'b5']
    await connector.publish(queue, names.map((name) => outgoing(name, {})))
    const byName = new Map<string, BrokerMessage>()
    while (byName.size < names.length) for (const m of await subscription.fetch(names.length, BOUND_MS)) byName.set(m.id, m)
    const [b1, b2, b3, b4, b5] = names.map((name) => byName.get(name) as BrokerMessage) as [BrokerMessage, BrokerMessage, BrokerMessage, BrokerMessage, BrokerMessage]
    const stream = queue.stream as string
    const entries = (await redis.xRange(stream, '-', '+')) ?? []
    // As XAUTOCLAIM would once b2's lease ran out: another consumer holds it now.
    await redis.xClaim(stream, GROUP, 'intruder', 0, (entries[1] as { id: string }).id)
    assert.deepEqual(await subscription.ackMany([b3, b1, b2]), ['settled', 'settled', 'lease-lost'], 'answered in the order asked')
    assert.deepEqual(await subscription.ackMany([b5, b4]), ['settled', 'settled'], 'out of stream order')
    assert.deepEqual(await subscription.ackMany([b1]), ['lease-lost'], 'an acknowledged message is no longer held')
    const pending = await redis.xPendingRange(stream, GROUP, '-', '+', 10)
    assert.deepEqual(pending.map((p) => [p.id, p.consumer]), [[(entries[1] as { id: string }).id, 'intruder']], 'only the entry the intruder took is pending')
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

  test('a release is counted in Redis: another consumer that gets the message sees the same attempt', async (t) => {
    const { connector, queue, subscription } = await open(t, 'release-shared')
    await connector.publish(queue, [outgoing('shared-1', {})])
    const first = await fetchOne(subscription)
    assert.equal(await subscription.release(first, 0), 'settled')
    await subscription.close()
    const other = await open(t, 'release-shared')
    const again = await fetchOne(other.subscription)
    assert.equal(again.id, 'shared-1')
    assert.equal(again.attempt, 1, 'a release uses no attempt, whichever consumer fetches next')
    assert.equal(await other.subscription.ack(again), 'settled')
  })

  test('an aborted fetch ends its blocking read at once', async (t) => {
    const { subscription } = await open(t, 'abort')
    const controller = new AbortController()
    const fetching = subscription.fetch(10, 120_000, controller.signal)
    setTimeout(() => controller.abort(), 100)
    let timer: NodeJS.Timeout | undefined
    const stillBlocked = new Promise((resolve) => { timer = setTimeout(() => resolve('still blocked'), BOUND_MS) })
    const outcome = await Promise.race([fetching, stillBlocked])
    clearTimeout(timer)
    assert.deepEqual(outcome, [])
  })

  test('a group or stream deleted under a subscription: fetch and backlog reject with BrokerMissingError naming them', async (t) => {
    const { queue, subscription } = await open(t, 'group-gone')
    const missing = (err: unknown): boolean => {
      assert.ok(err instanceof BrokerMissingError, String(err))
      assert.match(err.message, new RegExp(`${queue.stream as string}.*${GROUP}`))
      return true
    }
    await redis.xGroupDestroy(queue.stream as string, GROUP)
    await assert.rejects(subscription.fetch(1, 100), missing)
    await assert.rejects(subscription.backlog(), missing)
    await redis.del(queue.stream as string)
    await assert.rejects(subscription.fetch(1, 100), missing)
    await assert.rejects(subscription.backlog(), missing)
  })

  test('entries deleted from the stream (XDEL) are not counted as waiting, and a pending one that is deleted leaves the group', async (t) => {
    const stream = `${RUN}-deleted`
    const ids = [await redis.xAdd(stream, '*', { n: '1' }), await redis.xAdd(stream, '*', { n: '2' }), await redis.xAdd(stream, '*', { n: '3' })]
    await redis.xDel(stream, ids[1] as string)
    // With a deleted entry in the part the group has not read, Redis 7.0 cannot tell the lag: the backlog counts it.
    const { subscription } = await open(t, 'deleted')
    await waitForBacklog(subscription, { waiting: 2, inFlight: 0 })
    const first = await fetchOne(subscription)
    assert.equal(first.id, ids[0])
    await redis.xDel(stream, first.id)
    // Its lease runs out; the next fetch finds the entry gone and drops it from the pending list.
    const second = await fetchOne(subscription, BOUND_MS)
    assert.equal(second.id, ids[2])
    assert.equal(await subscription.ack(second), 'settled')
    await fetchNothing(subscription, LEASE_MS * 1.5)
    await waitForBacklog(subscription, { waiting: 0, inFlight: 0 })
    assert.equal(await subscription.ack(first), 'lease-lost', 'a deleted entry cannot be settled')
  })

  test('the stream is a queue from its first entry: entries published before the group existed are delivered', async (t) => {
    const stream = `${RUN}-history`
    await redis.xAdd(stream, '*', { early: 'bird' })
    const { subscription } = await open(t, 'history')
    const message = await fetchOne(subscription)
    assert.equal(text(message), 'bird')
    assert.equal(await subscription.ack(message), 'settled')
  })
})

describe('create: false', () => {
  test('a stream that is not there: subscribe and publish reject with BrokerMissingError naming it, and create nothing', async (t) => {
    const connector = createConnector({ kind: 'redis', url: REDIS_URL })
    t.after(() => connector.close())
    const queue = binding(REDIS_URL, 'absent', { create: false })
    await assert.rejects(connector.subscribe(queue), (err: unknown) => err instanceof BrokerMissingError && err.message.includes(queue.stream as string))
    await assert.rejects(connector.publish(queue, [outgoing('nowhere-1', {})]),
      (err: unknown) => err instanceof BrokerMissingError && err.message.includes(queue.stream as string))
    assert.equal(await redis.exists(queue.stream as string), 0, 'no stream was made')
  })

  test('a stream without the group: subscribe rejects with BrokerMissingError naming the group', async (t) => {
    const connector = createConnector({ kind: 'redis', url: REDIS_URL })
    const queue = binding(REDIS_URL, 'no-group', { create: false })
    t.after(async () => {
      await connector.close()
      await cleanup(queue)
    })
    await redis.xAdd(queue.stream as string, '*', { a: '1' })
    await assert.rejects(connector.subscribe(queue), (err: unknown) => {
      assert.ok(err instanceof BrokerMissingError, String(err))
      assert.ok(err.message.includes(GROUP) && err.message.includes(queue.stream as string), err.message)
      return true
    })
  })
})

test('capability: the server is named with the version INFO reports', async (t) => {
  const connector = createConnector({ kind: 'redis', url: REDIS_URL })
  t.after(() => connector.close())
  const capabilities = await connector.connect()
  const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1]
  assert.equal(capabilities.server, `redis ${version as string}`)
})

test('a first connect to a server that is not there rejects with BrokerUnavailableError, without the URL\'s credentials', async (t) => {
  const relay = await TcpRelay.start(6379)
  t.after(() => relay.close())
  await relay.cut()
  const connector = createConnector({ kind: 'redis', url: `redis://roost:s3cret-word@127.0.0.1:${relay.listeningPort}` })
  t.after(() => connector.close())
  await assert.rejects(connector.connect(), (err: unknown) => {
    assert.ok(err instanceof BrokerUnavailableError, String(err))
    assert.ok(err.message.includes(`127.0.0.1:${relay.listeningPort}`), err.message)
    assert.ok(!err.message.includes('s3cret-word'), `no password in: ${err.message}`)
    return true
  })
})
