// The connector contract (docs/connectors.md) as node:test cases: every
// connector, the embedded queue's and each broker's, registers them through
// connectorContract(target) in its own test file and must pass all of them.
// Leases are short (LEASE_MS) so that what happens when one runs out is seen
// quickly; every wait is bounded, and fails naming what did not come.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import { BrokerMissingError, BrokerUnavailableError } from '../../src/errors/index.js'
import type {
  Backlog, BrokerMessage, Connector, ConnectorKind, ConnectorOptions, ConnectorState, OutgoingMessage, QueueBinding, Subscription
} from '../../src/connectors/index.js'
import '../helpers/leave-nothing.js'
import { portOf, relayedUrl, TcpRelay } from '../helpers/tcp-relay.js'

export interface ContractTarget {
  kind: ConnectorKind
  /** The real broker's URL ('' for embedded). */
  url: string
  /** Whether the connection can be cut (false for embedded: no connection). */
  network: boolean
  /** A connector to `url` (the relay's URL in the outage case). */
  connector: (url: string) => Connector
  /** A binding for a queue unique to this run, from `name` (e.g. `roost-test-<random>-<name>`); the same name gives the same queue. */
  binding: (url: string, name: string, overrides?: Partial<QueueBinding>) => QueueBinding
  /** Removes what the binding created on the broker (stream, consumer, keys, queues); nothing there is no error. */
  cleanup: (binding: QueueBinding) => Promise<void>
  /** The argv JSON for consumer-child (so the child builds the same connector). */
  childOptions: (url: string) => ConnectorOptions
}

/** How long a fetched message is held in these tests. */
export const LEASE_MS = 1500
/** The wait of one fetch. */
const FETCH_WAIT_MS = 500
/** How much longer than its waitMs a fetch may take to answer, even while the broker is away. */
const FETCH_BOUND_MS = 10_000
/** How long a bounded wait waits for what must come. */
const BOUND_MS = 30_000
/** A retry's or release's delay, and how much sooner than it a message may loosely come back (clock rounding). */
const DELAY_MS = 300
const DELAY_SLACK_MS = 50
const MAX_ATTEMPTS = 5
const CHILD = fileURLToPath(new URL('./consumer-child.js', import.meta.url))

/** What `Capabilities.server` starts with, per kind (connector.ts). */
const SERVER_NAMES: Record<ConnectorKind, string> = {
  embedded: 'roost embedded',
  nats: 'nats-server ',
  redis: 'redis ',
  rabbitmq: 'rabbitmq '
}

export function connectorContract (target: ContractTarget): void {
  describe(`the ${target.kind} connector keeps the connector contract`, () => {
    test('delivery: published messages arrive whole, on attempt 1; acknowledged, they are not delivered again', async (t) => {
      const run = new Run(t, target)
      const connector = await run.open()
      const binding = run.binding('delivery')
      const subscription = await run.subscribe(connector, binding)
      const sent = [
        message(binding, 'json', { body: '{"n": 1, "big": 12345678901234567890}', subject: 'order 1', attributes: { tenant: 'acme', note: 'a b%c\r\n' } }),
        message(binding, 'text', { body: 'héllo wörld', contentType: 'text/plain; charset=utf-8' }),
        message(binding, 'bytes', { bytes: new Uint8Array([0xff, 0x00, 0xfe, 0x80]) })
      ]
      const before = Date.now()
      await connector.publish(binding, sent)
      const received = await collect(subscription, sent.length)
      assert.deepEqual(received.map((m) => m.id).sort(), sent.map((m) => m.id).sort())
      for (const m of received) {
        const original = sent.find((s) => s.id === m.id) as OutgoingMessage
        assert.deepEqual(Buffer.from(m.body), Buffer.from(original.body), `${m.id}: the body's bytes`)
        assert.equal(m.bodyType, original.bodyType)
        assert.equal(m.source, original.source)
        assert.equal(m.type, original.type)
        assert.equal(m.subject, original.subject)
        assert.equal(m.contentType, original.contentType)
        assert.deepEqual(m.attributes, original.attributes)
        assert.equal(m.attempt, 1)
        assert.ok(m.publishedAt >= before - 60_000 && m.publishedAt <= Date.now() + 60_000, `${m.id}: publishedAt ${m.publishedAt} is when it was published`)
      }
      for (const m of received) assert.equal(await subscription.ack(m), 'settled')
      await expectNothing(subscription, LEASE_MS * 1.5)
      await expectBacklog(subscription, { waiting: 0, inFlight: 0 })
    })

    test('batch: a fetch returns at most `max` messages, every message arrives once, and ackMany settles a batch', async (t) => {
      const run = new Run(t, target)
      const connector = await run.open()
      const binding = run.binding('batch')
      const subscription = await run.subscribe(connector, binding)
      const sent = Array.from({ length: 25 }, (_, i) => message(binding, `m${i}`))
      await connector.publish(binding, sent)
      const seen = new Map<string, number>()
      await until(async () => {
        const batch = await boundedFetch(subscription, 10)
        assert.ok(batch.length <= 10, `a fetch of 10 returned ${batch.length}`)
        for (const m of batch) seen.set(m.id, (seen.get(m.id) ?? 0) + 1)
        assert.deepEqual(await subscription.ackMany(batch), batch.map(() => 'settled'))
        return seen.size >= sent.length
      }, () => `all 25 messages (got ${seen.size})`)
      assert.deepEqual([...seen.keys()].sort(), sent.map((m) => m.id).sort())
      assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], 'no message arrived twice')
      await expectNothing(subscription, FETCH_WAIT_MS)
    })

    test('a waiting fetch: a message published while a fetch waits is what that fetch returns, on attempt 1', async (t) => {
      const run = new Run(t, target)
      const connector = await run.open()
      const binding = run.binding('waiting')
      const subscription = await run.subscribe(connector, binding)
      const sent = message(binding, 'late')
      // The fetch waits longer than a lease: a message it read but lost would come back redelivered, on attempt 2.
      const waitMs = 3 * LEASE_MS
      const fetching = boundedFetch(subscription, 5, waitMs)
      await sleep(FETCH_WAIT_MS)
      await connector.publish(binding, [sent])
      const got = await fetching
      assert.deepEqual(got.map((m) => [m.id, m.attempt]), [[sent.id, 1]], 'the waiting fetch returned the message, first delivered')
      assert.equal(await subscription.ack(got[0] as BrokerMessage), 'settled')
      await expectNothing(subscription, FETCH_WAIT_MS)
    })

    test('retry: comes back after its delay on the next attempt; release: comes back after its delay on the same attempt', async (t) => {
      const run = new Run(t, target)
      const connector = await run.open()
      const binding = run.binding('retry')
      const subscription = await run.subscribe(connector, binding)
      const sent = message(binding, 'once')
      await connector.publish(binding, [sent])

      const [first] = await collect(subscription, 1)
      assert.equal(first.attempt, 1)
      let since = Date.now()
      assert.equal(await subscription.retry(first, DELAY_MS), 'settled')
      const [retried] = await collect(subscription, 1)
      assert.ok(Date.now() - since >= DELAY_MS - DELAY_SLACK_MS, `a retry delayed ${DELAY_MS} ms came back after ${Date.now() - since} ms`)
      assert.equal(retried.id, sent.id)
      assert.equal(retried.attempt, 2)

      since = Date.now()
      assert.equal(await subscription.release(retried, DELAY_MS), 'settled')
      const [released] = await collect(subscription, 1)
      assert.ok(Date.now() - since >= DELAY_MS - DELAY_SLACK_MS, `a release delayed ${DELAY_MS} ms came back after ${Date.now() - since} ms`)
      assert.equal(released.id, sent.id)
      assert.equal(released.attempt, 2, 'a release uses no attempt')

      assert.equal(await subscription.retry(released, 0), 'settled')
      const [third] = await collect(subscription, 1)
      assert.equal(third.attempt, 3, 'a retry after a release counts on from the attempt before it')
      assert.equal(await subscription.ack(third), 'settled')
      await expectNothing(subscription, LEASE_MS * 1.5)
    })

    test('dead: a dead message is never delivered again', async (t) => {
      const run = new Run(t, target)
      const connector = await run.open()
      const binding = run.binding('dead')
      const subscription = await run.subscribe(connector, binding)
      await connector.publish(binding, [message(binding, 'poison')])
      const [poison] = await collect(subscription, 1)
      assert.equal(await subscription.dead(poison, 'the handler said it can never succeed'), 'settled')
      await expectNothing(subscription, LEASE_MS * 2)
      await expectBacklog(subscription, { waiting: 0, inFlight: 0 })
    })

    test('working: a message kept past its lease with working() is not given to another subscription', async (t) => {
      const run = new Run(t, target)
      const holder = await run.subscribe(await run.open(), run.binding('working'))
      const other = await run.subscribe(await run.open(), run.binding('working'))
      const publisher = await run.open()
      await publisher.publish(run.binding('working'), [message(run.binding('working'), 'long')])
      const [held] = await collect(holder, 1)
      const heartbeats = (async () => {
        const end = Date.now() + LEASE_MS * 2.5
        while (Date.now() < end) {
          assert.equal(await holder.working(held), 'settled')
          await sleep(LEASE_MS / 4)
        }
      })()
      await Promise.all([heartbeats, expectNothing(other, LEASE_MS * 2.5)])
      assert.equal(await holder.ack(held), 'settled')
      await expectNothing(other, LEASE_MS * 1.5)
    })

    test('fencing: once a lease ran out and another subscription has the message, the first one\'s settlements are refused', async (t) => {
      const run = new Run(t, target)
      const binding = run.binding('fencing')
      const first = await run.subscribe(await run.open(), binding)
      const second = await run.subscribe(await run.open(), binding)
      const publisher = await run.open()
      await publisher.publish(binding, [message(binding, 'contended')])
      const [stale] = await collect(first, 1)
      assert.equal(stale.attempt, 1)
      const [fresh] = await collect(second, 1, { timeoutMs: LEASE_MS + BOUND_MS })
      assert.equal(fresh.id, stale.id)
      assert.equal(fresh.attempt, 2, 'a lease that ran out counts an attempt')

      assert.equal(await first.ack(stale), 'lease-lost')
      assert.deepEqual(await first.ackMany([stale]), ['lease-lost'])
      assert.equal(await first.working(stale), 'lease-lost')
      assert.equal(await first.retry(stale, 0), 'lease-lost')
      assert.equal(await first.release(stale, 0), 'lease-lost')
      assert.equal(await first.dead(stale, 'a zombie\'s verdict'), 'lease-lost')
      await expectNothing(first, FETCH_WAIT_MS)

      assert.equal(await second.ack(fresh), 'settled')
      await expectNothing(second, LEASE_MS * 1.5)
      await expectNothing(first, FETCH_WAIT_MS)
      await expectBacklog(second, { waiting: 0, inFlight: 0 })
    })

    test('drain: messages fetched and not settled when a subscription closes go to a new one', async (t) => {
      const run = new Run(t, target)
      const binding = run.binding('drain')
      const connector = await run.open()
      const closing = await run.subscribe(connector, binding)
      const sent = [message(binding, 'a'), message(binding, 'b'), message(binding, 'c')]
      await connector.publish(binding, sent)
      await collect(closing, 3)
      await closing.close()
      assert.deepEqual(await boundedFetch(closing, 10, 50), [], 'a closed subscription fetches nothing')
      const next = await run.subscribe(await run.open(), binding)
      await receiveAll(next, sent.map((m) => m.id), LEASE_MS + BOUND_MS)
    })

    test('backlog: waiting and in-flight messages, from the broker', async (t) => {
      const run = new Run(t, target)
      const connector = await run.open()
      const binding = run.binding('backlog')
      const subscription = await run.subscribe(connector, binding)
      await connector.publish(binding, Array.from({ length: 5 }, (_, i) => message(binding, `m${i}`)))
      await expectBacklog(subscription, { waiting: 5, inFlight: 0 })
      const fetched = await collect(subscription, 2, { max: 2 })
      await expectBacklog(subscription, { waiting: 3, inFlight: 2 })
      for (const m of fetched) assert.equal(await subscription.ack(m), 'settled')
      await expectBacklog(subscription, { waiting: 3, inFlight: 0 })
    })

    // Only where there is a connection to cut: the embedded queue is a file in
    // this process, and has no outage short of the process itself going (the kill -9 case).
    if (target.network) {
      test('outage and recovery: a cut connection is reported, claims nothing, and consumption resumes by itself', async (t) => {
        const run = new Run(t, target)
        const relay = await TcpRelay.start(portOf(target.url))
        t.after(() => relay.close())
        const url = relayedUrl(target.url, relay)
        const states: ConnectorState[] = []
        const relayed = await run.open(url, (state) => states.push(state))
        const direct = await run.open()
        const binding = run.binding('outage')
        const subscription = await run.subscribe(relayed, run.binding('outage', url))
        const sent = [message(binding, 'held'), message(binding, 'waiting')]
        await direct.publish(binding, sent)
        const [held] = await collect(subscription, 1, { max: 1 })

        const cutAt = states.length
        await relay.cut()
        await until(() => states.slice(cutAt).some((s) => s.state === 'disconnected'), () => 'onState to report the connection lost')
        const lost = states.slice(cutAt).find((s) => s.state === 'disconnected') as Extract<ConnectorState, { state: 'disconnected' }>
        assert.ok(typeof lost.reason === 'string' && lost.reason.length > 0, 'a lost connection says why')
        assert.ok(Number.isFinite(lost.retryInMs) && lost.retryInMs >= 0, 'and when it tries again')

        const during = await settledWithin(subscription.fetch(10, FETCH_WAIT_MS), FETCH_WAIT_MS + FETCH_BOUND_MS, 'a fetch while the broker is away')
        assert.ok(during.ok ? during.value.length === 0 : during.error instanceof BrokerUnavailableError,
          `a fetch while the broker is away returns [] or rejects with BrokerUnavailableError, got ${describeOutcome(during)}`)
        const ack = await settledWithin(subscription.ack(held), LEASE_MS + FETCH_BOUND_MS, 'an ack while the broker is away')
        assert.ok(ack.ok ? ack.value === 'lease-lost' : ack.error instanceof BrokerUnavailableError,
          `an ack while the broker is away does not claim success, got ${describeOutcome(ack)}`)

        const restoredAt = states.length
        await relay.restore()
        await until(() => states.slice(restoredAt).some((s) => s.state === 'connected'), () => 'onState to report the connection back', 60_000)
        await receiveAll(subscription, sent.map((m) => m.id), LEASE_MS + BOUND_MS)
        await expectBacklog(subscription, { waiting: 0, inFlight: 0 })
      })
    }

    test('kill -9 mid-batch: the messages a killed consumer held come to another, none lost', async (t) => {
      const run = new Run(t, target)
      const binding = run.binding('killed')
      const connector = await run.open()
      // Subscribing creates the queue: published before, a message could have nowhere to go.
      const setup = await run.subscribe(connector, binding)
      const sent = Array.from({ length: 10 }, (_, i) => message(binding, `m${i}`))
      await connector.publish(binding, sent)
      await setup.close()

      const child = spawn(process.execPath, [CHILD, JSON.stringify({ options: target.childOptions(target.url), binding, count: 5 })], {
        stdio: ['pipe', 'pipe', 'pipe']
      })
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      t.after(async () => {
        child.kill('SIGKILL')
        await exited
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
      child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
      let gone = false
      void exited.then(() => { gone = true })
      await until(() => {
        if (gone) throw new Error(`consumer-child exited before it fetched: ${stderr}`)
        return /^fetched \d+$/m.test(stdout)
      }, () => `consumer-child to fetch 5 (stdout: ${stdout}, stderr: ${stderr})`)
      assert.match(stdout, /^fetched 5$/m)
      child.kill('SIGKILL')
      await exited

      const survivor = await run.subscribe(await run.open(), binding)
      await receiveAll(survivor, sent.map((m) => m.id), LEASE_MS + BOUND_MS)
      await expectBacklog(survivor, { waiting: 0, inFlight: 0 })
    })

    test('create: false: subscribing to a queue that is not there rejects with BrokerMissingError naming it', async (t) => {
      const run = new Run(t, target)
      const connector = await run.open()
      const binding = run.binding('missing', target.url, { create: false })
      const name = binding.rabbitQueue ?? binding.stream ?? binding.queue
      await assert.rejects(connector.subscribe(binding), (err: unknown) => {
        assert.ok(err instanceof BrokerMissingError, `BrokerMissingError, got ${String(err)}`)
        assert.ok(err.message.includes(name), `the error names ${name}: ${err.message}`)
        return true
      })
    })

    test('capability: connect() finds the server and its version, and onState says connected, then closed', async (t) => {
      const run = new Run(t, target)
      const states: ConnectorState[] = []
      const connector = run.unconnected()
      connector.onState((state) => states.push(state))
      const capabilities = await connector.connect()
      assert.ok(capabilities.server.startsWith(SERVER_NAMES[target.kind]), `the server is named: ${capabilities.server}`)
      if (target.network) assert.match(capabilities.server, /\d+\.\d+/, 'with its version')
      assert.ok(Array.isArray(capabilities.warnings) && capabilities.warnings.every((w) => typeof w === 'string' && w.length > 0))
      assert.deepEqual(states.at(-1), { state: 'connected', server: capabilities.server })
      await connector.close()
      assert.deepEqual(states.at(-1), { state: 'closed' })
    })
  })
}

/** One test's connectors, subscriptions and bindings, all closed and removed after it, whatever its outcome. */
class Run {
  private readonly connectors: Connector[] = []
  private readonly subscriptions: Subscription[] = []
  private readonly bindings = new Map<string, QueueBinding>()

  constructor (t: TestContext, private readonly target: ContractTarget) {
    t.after(() => this.dispose())
  }

  /** A connected connector to `url` (the target's by default); `onState` sees its states from the first. */
  async open (url = this.target.url, onState?: (state: ConnectorState) => void): Promise<Connector> {
    const connector = this.unconnected(url)
    if (onState !== undefined) connector.onState(onState)
    await connector.connect()
    return connector
  }

  unconnected (url = this.target.url): Connector {
    const connector = this.target.connector(url)
    this.connectors.push(connector)
    return connector
  }

  binding (name: string, url = this.target.url, overrides: Partial<QueueBinding> = {}): QueueBinding {
    const binding = this.target.binding(url, name, { leaseMs: LEASE_MS, maxAttempts: MAX_ATTEMPTS, ...overrides })
    if (!this.bindings.has(name)) this.bindings.set(name, binding)
    return binding
  }

  async subscribe (connector: Connector, binding: QueueBinding): Promise<Subscription> {
    const subscription = await connector.subscribe(binding)
    this.subscriptions.push(subscription)
    return subscription
  }

  private async dispose (): Promise<void> {
    const problems: unknown[] = []
    const attempt = async (work: () => Promise<void>): Promise<void> => {
      try { await work() } catch (error) { problems.push(error) }
    }
    for (const subscription of this.subscriptions) await attempt(() => subscription.close())
    for (const connector of this.connectors) await attempt(() => connector.close())
    for (const binding of this.bindings.values()) await attempt(() => this.target.cleanup(binding))
    if (problems.length > 0) throw new AggregateError(problems, 'the test\'s connectors or queues could not be closed or removed')
  }
}

let sequence = 0

/** A message for the binding's queue with a run-unique id; a json body unless told otherwise. */
function message (binding: QueueBinding, name: string, options: { body?: string, bytes?: Uint8Array, subject?: string, contentType?: string, attributes?: Record<string, string> } = {}): OutgoingMessage {
  const id = `${binding.queue}-${name}-${++sequence}`
  if (options.bytes !== undefined) {
    return {
      id, body: options.bytes, bodyType: 'bytes', source: '/tests/connectors', type: 'dev.roost.test.bytes',
      contentType: 'application/octet-stream', attributes: options.attributes ?? {}, subject: options.subject
    }
  }
  const text = options.body ?? JSON.stringify({ name, id })
  const json = options.contentType === undefined
  return {
    id,
    body: new TextEncoder().encode(text),
    bodyType: json ? 'json' : 'text',
    source: '/tests/connectors',
    type: json ? 'dev.roost.test.json' : 'dev.roost.test.text',
    subject: options.subject,
    contentType: options.contentType ?? 'application/json',
    attributes: options.attributes ?? {}
  }
}

/** One fetch, which must answer within its wait and a bound. */
async function boundedFetch (subscription: Subscription, max: number, waitMs = FETCH_WAIT_MS): Promise<BrokerMessage[]> {
  const outcome = await settledWithin(subscription.fetch(max, waitMs), waitMs + FETCH_BOUND_MS, `fetch(${max}, ${waitMs})`)
  if (!outcome.ok) throw outcome.error
  return outcome.value
}

/** Exactly `count` messages (fetching at most `max` at a time), unsettled. */
async function collect (subscription: Subscription, count: number, options: { max?: number, timeoutMs?: number } = {}): Promise<BrokerMessage[]> {
  const got: BrokerMessage[] = []
  await until(async () => {
    const want = Math.min(options.max ?? count, count - got.length)
    const batch = await boundedFetch(subscription, want)
    assert.ok(batch.length <= want, `a fetch of ${want} returned ${batch.length}`)
    got.push(...batch)
    return got.length >= count
  }, () => `${count} messages (got ${got.length})`, options.timeoutMs ?? BOUND_MS)
  return got
}

/** Fetches and acknowledges until every one of `ids` has arrived (some may arrive twice: at-least-once). */
async function receiveAll (subscription: Subscription, ids: readonly string[], timeoutMs: number): Promise<void> {
  const missing = new Set(ids)
  await until(async () => {
    for (const m of await boundedFetch(subscription, 10)) {
      assert.ok(ids.includes(m.id), `only the test's messages arrive, got ${m.id}`)
      assert.equal(await subscription.ack(m), 'settled')
      missing.delete(m.id)
    }
    return missing.size === 0
  }, () => `every message to arrive (missing ${[...missing].join(', ')})`, timeoutMs)
}

/** Nothing is delivered for `forMs`. */
async function expectNothing (subscription: Subscription, forMs: number): Promise<void> {
  const end = Date.now() + forMs
  for (let left = forMs; left > 0; left = end - Date.now()) {
    const batch = await boundedFetch(subscription, 10, Math.min(FETCH_WAIT_MS, Math.ceil(left)))
    assert.deepEqual(batch.map((m) => `${m.id} (attempt ${m.attempt})`), [], 'nothing is delivered')
  }
}

/** The backlog comes to `expected` (a broker's figures may lag a moment behind). */
async function expectBacklog (subscription: Subscription, expected: Backlog): Promise<void> {
  let last: Backlog | undefined
  await until(async () => {
    last = await subscription.backlog()
    return last.waiting === expected.waiting && last.inFlight === expected.inFlight
  }, () => `backlog ${JSON.stringify(expected)} (last ${JSON.stringify(last)})`)
}

async function until (check: () => boolean | Promise<boolean>, what: () => string, timeoutMs = BOUND_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`)
    await sleep(20)
  }
}

type Outcome<T> = { ok: true, value: T } | { ok: false, error: unknown }

/** How the promise settled, failing the test when it does not within `ms` (a hang is a failure of its own). */
async function settledWithin<T> (promise: Promise<T>, ms: number, what: string): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise.then((value): Outcome<T> => ({ ok: true, value }), (error: unknown): Outcome<T> => ({ ok: false, error })), hung])
  } finally {
    clearTimeout(timer)
  }
}

function describeOutcome (outcome: Outcome<unknown>): string {
  return outcome.ok ? `resolved ${JSON.stringify(outcome.value)}` : `rejected ${String(outcome.error)}`
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
