// The connector contract on the embedded queue: connectors in this process on
// one EventStore in a temporary folder, and the kill -9 child on the same file.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import { createConnector } from '../../src/connectors/index.js'
import type { BrokerMessage, Connector, ConnectorOptions, OutgoingMessage, QueueBinding } from '../../src/connectors/index.js'
import { BrokerUnavailableError, ValidationError } from '../../src/errors/index.js'
import { EventStore, EVENTS_DATABASE_FILE } from '../../src/events/index.js'
import { connectorContract } from './contract.js'

const dir = mkdtempSync(join(tmpdir(), 'roost-connectors-embedded-'))
const events = EventStore.open(dir, { durability: 'normal' })
const namespace = `contract-${process.pid}`
after(() => {
  events.close()
  rmSync(dir, { recursive: true, force: true })
})

connectorContract({
  kind: 'embedded',
  url: '',
  network: false,
  connector: () => createConnector({ kind: 'embedded', url: '', events, clientName: 'contract' }),
  binding: (url: string, name: string, overrides: Partial<QueueBinding> = {}): QueueBinding => ({
    connector: 'embedded',
    namespace,
    queue: name,
    url,
    create: true,
    maxAttempts: 5,
    leaseMs: 1500,
    ...overrides
  }),
  // The folder goes after the file's tests; a queue's records are the store's, nothing else to remove.
  cleanup: async () => {},
  childOptions: () => ({ kind: 'embedded', url: join(dir, EVENTS_DATABASE_FILE), clientName: 'contract-child' })
})

const ORDERS = {
  connector: 'embedded', namespace, url: '', create: true, maxAttempts: 2, leaseMs: 1500
} as const satisfies Omit<QueueBinding, 'queue'>

function order (id: string, body = `{"order":"${id}"}`): OutgoingMessage {
  return {
    id, body: new TextEncoder().encode(body), bodyType: 'json', source: '/tests/embedded', type: 'dev.roost.test', contentType: 'application/json', attributes: {}
  }
}

async function connected (t: TestContext, options: Partial<ConnectorOptions> = {}): Promise<Connector> {
  const connector = createConnector({ kind: 'embedded', url: '', events, ...options })
  t.after(() => connector.close())
  await connector.connect()
  return connector
}

describe('the embedded connector on the platform\'s EventStore', () => {
  test('a dead message is the store\'s dead record, with its reason: what `roost dlq` lists', async (t) => {
    const connector = await connected(t)
    const binding = { ...ORDERS, queue: 'embedded-dead' }
    const subscription = await connector.subscribe(binding)
    await connector.publish(binding, [order('dead-1')])
    const [message] = await subscription.fetch(1, 1000)
    assert.equal(await subscription.dead(message as BrokerMessage, 'the order names no customer'), 'settled')
    const [dead] = events.listDead(namespace, binding.queue)
    assert.equal(dead?.id, 'dead-1')
    assert.equal(dead?.deadReason, 'the order names no customer')
  })

  test('the store counts the attempts: a release uses none, and a retry on the last attempt makes the message dead', async (t) => {
    const connector = await connected(t)
    const binding = { ...ORDERS, queue: 'embedded-attempts' }
    const subscription = await connector.subscribe(binding)
    await connector.publish(binding, [order('counted-1')])
    const fetchOne = async (): Promise<BrokerMessage> => {
      const [message] = await subscription.fetch(1, 5000)
      assert.ok(message !== undefined, 'a message came')
      return message
    }
    assert.equal(await subscription.release(await fetchOne(), 0), 'settled')
    assert.equal(await subscription.retry(await fetchOne(), 0), 'settled')
    const last = await fetchOne()
    assert.equal(last.attempt, 2)
    assert.equal(await subscription.retry(last, 0), 'settled')
    const record = events.get('counted-1')
    assert.equal(record?.state, 'dead')
    assert.deepEqual(record?.history.map((a) => [a.outcome, a.counted]), [['drained', false], ['retry', true], ['retry', true]])
    assert.deepEqual(await subscription.fetch(1, 200), [])
  })

  test('a fetch waiting for work returns when a message is published, not at the end of its wait', async (t) => {
    const connector = await connected(t)
    const publisher = await connected(t)
    const binding = { ...ORDERS, queue: 'embedded-wake' }
    const subscription = await connector.subscribe(binding)
    const waiting = subscription.fetch(10, 600_000)
    await publisher.publish(binding, [order('wake-1')])
    const bounded = await Promise.race([waiting, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 10_000).unref())])
    assert.notEqual(bounded, 'still waiting')
    assert.deepEqual((bounded as BrokerMessage[]).map((m) => m.id), ['wake-1'])
  })

  test('an aborted fetch returns [] at once, and so does one on a closed subscription', async (t) => {
    const connector = await connected(t)
    const subscription = await connector.subscribe({ ...ORDERS, queue: 'embedded-abort' })
    const controller = new AbortController()
    const waiting = subscription.fetch(10, 600_000, controller.signal)
    controller.abort()
    assert.deepEqual(await waiting, [])
    const closing = subscription.fetch(10, 600_000)
    await subscription.close()
    assert.deepEqual(await closing, [])
  })

  test('a fetch with a wait that is no number waits for nothing', async (t) => {
    const connector = await connected(t)
    const subscription = await connector.subscribe({ ...ORDERS, queue: 'embedded-nan-wait' })
    assert.deepEqual(await subscription.fetch(10, Number.NaN), [])
  })

  test('a queue another process declared and published to is there for a create: false subscription', async (t) => {
    const connector = await connected(t)
    const binding = { ...ORDERS, queue: 'embedded-other-process' }
    await connector.publish(binding, [order('elsewhere-1')])
    const fromFile = await connected(t, { url: join(dir, EVENTS_DATABASE_FILE), events: undefined })
    const subscription = await fromFile.subscribe({ ...binding, create: false })
    const [message] = await subscription.fetch(1, 5000)
    assert.equal(message?.id, 'elsewhere-1')
    assert.equal(await subscription.ack(message as BrokerMessage), 'settled')
  })

  test('a json body that is not JSON is refused with its field, and nothing is published', async (t) => {
    const connector = await connected(t)
    const binding = { ...ORDERS, queue: 'embedded-bad-body' }
    await assert.rejects(connector.publish(binding, [order('good-1'), order('bad-1', '{"order":')]), (err: unknown) =>
      err instanceof ValidationError && err.errors[0]?.field === 'messages[1].body')
    assert.equal(events.stats(namespace, binding.queue).waiting, 0)
  })

  test('a binding with an impossible lease, or for another broker, is refused', async (t) => {
    const connector = await connected(t)
    await assert.rejects(connector.subscribe({ ...ORDERS, queue: 'embedded-bad-binding', leaseMs: 0 }), ValidationError)
    await assert.rejects(connector.subscribe({ ...ORDERS, queue: 'embedded-bad-binding', connector: 'nats' }), ValidationError)
  })

  test('without a store or a path there is nothing to connect to; a path that cannot be opened is unavailable', async (t) => {
    assert.throws(() => createConnector({ kind: 'embedded', url: '' }), ValidationError)
    const notAFolder = join(dir, 'not-a-folder')
    writeFileSync(notAFolder, 'x')
    const connector = createConnector({ kind: 'embedded', url: join(notAFolder, EVENTS_DATABASE_FILE) })
    t.after(() => connector.close())
    await assert.rejects(connector.connect(), BrokerUnavailableError)
  })

  test('once the platform closed its store, a fetch rejects with BrokerUnavailableError', async (t) => {
    const ownDir = mkdtempSync(join(tmpdir(), 'roost-connectors-closed-'))
    const own = EventStore.open(ownDir, { durability: 'normal' })
    t.after(() => {
      own.close()
      rmSync(ownDir, { recursive: true, force: true })
    })
    const connector = await connected(t, { events: own })
    const subscription = await connector.subscribe({ ...ORDERS, queue: 'embedded-closed' })
    own.close()
    await assert.rejects(subscription.fetch(1, 10), BrokerUnavailableError)
    await subscription.close()
  })

  test('a connector that opened the store from its path closes it; one given the platform\'s store leaves it open', async (t) => {
    const given = await connected(t)
    await given.close()
    assert.equal(events.isOpen, true)
    const fromFile = createConnector({ kind: 'embedded', url: join(dir, EVENTS_DATABASE_FILE) })
    const states: string[] = []
    fromFile.onState((state) => states.push(state.state))
    await fromFile.connect()
    const subscription = await fromFile.subscribe({ ...ORDERS, queue: 'embedded-owned' })
    await fromFile.close()
    assert.deepEqual(states, ['connected', 'closed'])
    await assert.rejects(fromFile.publish({ ...ORDERS, queue: 'embedded-owned' }, [order('late-1')]), BrokerUnavailableError)
    assert.deepEqual(await subscription.fetch(1, 10), [])
  })
})
