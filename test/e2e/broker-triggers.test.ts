// Queue triggers fed by a broker on a real platform (issue 13), once per kind
// of queue: the same handler gets each message once, a handler that throws
// uses its attempts and its message is in `roost dlq` (a replay publishes it
// again), the first message at zero instances starts one, ctx.publish and the
// API's publish reach the broker, a broker cut off through a TCP relay is a
// condition on the trigger (describe, get triggers, an event, a metric) and
// consumption resumes by itself, and kill -9 of the platform mid-batch loses
// no message. A kind is one entry of TARGETS; every name on a broker is this
// run's and is deleted afterwards.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { createClient } from 'redis'
import { createConnector } from '../../src/connectors/index.js'
import type { ConnectorKind, QueueBinding } from '../../src/connectors/index.js'
import { rabbitNames } from '../../src/connectors/rabbit-topology.js'
import { redisKeys } from '../../src/connectors/redis-keys.js'
import { parseAllDocuments } from 'yaml'
import { resolveTriggers, validateFunction } from '../../src/api/index.js'
import { REPO_ROOT, TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { instancesOf, ok, waitForExit } from '../helpers/e2e.js'
import { deadOf, functionEvents, publish, Witness } from '../helpers/events.js'
import { expectProblem } from '../helpers/problems.js'
import { relayedUrl, TcpRelay, portOf } from '../helpers/tcp-relay.js'

const RUN = `roost-e2e-${randomBytes(4).toString('hex')}`
const STORE = join(REPO_ROOT, 'examples', 'store')
const V1 = '/apis/roost.dev/v1'

/** Where one kind of queue lives, as the tests need it. */
interface Target {
  kind: ConnectorKind
  /** The broker's URL; undefined for the embedded queue, which has no connection to cut. */
  url: string | undefined
  /** The broker's names for Roost's queue `name` (the trigger's stream, group, subject, consumer, queue). */
  names: (name: string) => Partial<QueueBinding>
  /** Deletes what the run made on the broker for these queues. */
  cleanup: (names: Array<Partial<QueueBinding>>) => Promise<void>
}

async function redisCleanup (names: Array<Partial<QueueBinding>>): Promise<void> {
  const redis = createClient({ url: 'redis://127.0.0.1:6379' })
  redis.on('error', () => {})
  await redis.connect()
  for (const n of names) {
    const keys = redisKeys(n.stream as string, n.group as string)
    await redis.del([keys.stream, keys.delayed, keys.released, keys.dead])
  }
  await redis.close()
}

async function natsCleanup (names: Array<Partial<QueueBinding>>): Promise<void> {
  const nc = await natsConnect({ servers: '127.0.0.1:4222' })
  try {
    const jsm = await jetstreamManager(nc)
    for (const n of names) await jsm.streams.delete(n.stream as string).catch(() => false)
  } finally {
    await nc.close()
  }
}

// The delay queues a retry made expire by themselves (x-expires) a minute after their last message.
async function rabbitCleanup (names: Array<Partial<QueueBinding>>): Promise<void> {
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672')
  try {
    const channel = await connection.createChannel()
    for (const n of names) {
      const created = rabbitNames(n.rabbitQueue as string)
      await channel.deleteQueue(created.queue)
      await channel.deleteQueue(created.deadQueue)
      await channel.deleteExchange(created.deadExchange)
    }
    await channel.close()
  } finally {
    await connection.close()
  }
}

const TARGETS: Target[] = [
  { kind: 'embedded', url: undefined, names: () => ({}), cleanup: async () => {} },
  { kind: 'redis', url: 'redis://127.0.0.1:6379', names: (name) => ({ stream: `${RUN}-${name}`, group: 'roost-e2e' }), cleanup: redisCleanup },
  { kind: 'nats', url: 'nats://127.0.0.1:4222', names: (name) => ({ stream: `${RUN}-${name}`, subject: `${RUN}.${name}.>`, consumer: 'roost-e2e' }), cleanup: natsCleanup },
  { kind: 'rabbitmq', url: 'amqp://127.0.0.1:5672', names: (name) => ({ rabbitQueue: `${RUN}-${name}` }), cleanup: rabbitCleanup }
]

// Reports each message it handles; publishes onward what asks for it; sleeps for what asks for it.
const WORK = `
export default {
  async queue (batch, ctx) {
    for (const message of batch) {
      const body = message.body
      if (body.slowMs) await new Promise((resolve) => setTimeout(resolve, body.slowMs))
      if (body.forward) await ctx.publish(process.env.FORWARD, { n: body.n, forwarded: true })
      await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ fn: process.env.NAME, n: body.n, attempt: message.attempt, id: message.id }) })
    }
  }
}
`
// Throws for a poison message until FIXED is set (a new version, as a fix would be).
const BAD = `
export default {
  async queue (batch) {
    for (const message of batch) {
      if (message.body.poison === true && process.env.FIXED !== 'yes') throw new Error('cannot handle order ' + message.body.n)
      await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ fn: 'bad', n: message.body.n, attempt: message.attempt }) })
    }
  }
}
`

// Says when it takes a message and when it is done with it, three seconds later: the scale-down case watches both.
const CHORE = `
export default {
  async queue (batch) {
    for (const message of batch) {
      const report = (phase) => fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ fn: 'chores', phase, n: message.body.n, attempt: message.attempt, pid: process.pid }) })
      await report('start')
      await new Promise((resolve) => setTimeout(resolve, 3000))
      await report('done')
    }
  }
}
`

/** The trigger's fields for a queue on the target, reached at `url`, as YAML flow-mapping text. */
function triggerFields (target: Target, name: string, url: string | undefined, extra: string): string {
  if (target.kind === 'embedded') return `{ name: ${name}, ${extra} }`
  const names = target.names(name)
  const own = Object.entries(names).map(([k, v]) => `${k === 'rabbitQueue' ? 'queue' : k}: ${JSON.stringify(v)}`).join(', ')
  return `{ name: ${name}, connector: ${target.kind}, url: ${JSON.stringify(url)}, ${own}, ${extra} }`
}

/** Publishes as a producer outside the platform under test: a connector of its own, on a connection of its own (for the embedded queue, the API). */
async function produce (target: Target, platform: TestPlatform, name: string, bodies: unknown[]): Promise<void> {
  if (target.url === undefined) {
    await publish(platform, name, bodies.map((body) => ({ body })))
    return
  }
  const connector = createConnector({ kind: target.kind, url: target.url, clientName: `${RUN}-producer` })
  try {
    await connector.connect()
    const binding: QueueBinding = { connector: target.kind, namespace: 'default', queue: name, url: target.url, create: true, maxAttempts: 5, leaseMs: 5000, ...target.names(name) }
    await connector.publish(binding, bodies.map((body) => ({
      id: randomUUID(), body: Buffer.from(JSON.stringify(body)), bodyType: 'json' as const, source: '/e2e/producer', type: 'com.example.order', contentType: 'application/json', attributes: {}
    })))
  } finally {
    await connector.close()
  }
}

interface TriggerRow { function: string, name: string, connector: string | null, state: string | null, reason: string | null, backlog: number }

async function triggerOf (platform: TestPlatform, name: string): Promise<TriggerRow> {
  const response = await platform.api(`${V1}/namespaces/default/triggers`)
  const row = (await response.json() as { items: TriggerRow[] }).items.find((t) => t.name === name)
  assert.ok(row !== undefined, `trigger ${name} is listed`)
  return row
}

async function metricsText (platform: TestPlatform): Promise<string> {
  return await (await platform.api('/metrics', { token: null })).text()
}

for (const target of TARGETS) {
  describe(`queue triggers on ${target.kind}`, () => {
    let platform: TestPlatform
    let witness: Witness
    let relay: TcpRelay | undefined
    let dir: string
    const queues = ['jobs', 'out', 'bad', 'flaky', 'steady', 'chores']
    // What the store example made on the broker, read from its manifest.
    const storeNames: Array<Partial<QueueBinding>> = []
    const fields = (name: string, extra: string, url = target.url): string => triggerFields(target, name, url, extra)
    const seen = (fn: string): Set<unknown> => new Set(witness.reports.filter((r) => r.fn === fn).map((r) => r.n))
    const apply = async (file: string, text: string): Promise<void> => {
      writeFileSync(join(dir, file), text)
      ok(await platform.cli(['apply', '-f', join(dir, file)]), `apply ${file}`)
    }

    before(async () => {
      witness = await Witness.start()
      if (target.url !== undefined) relay = await TcpRelay.start(portOf(target.url))
      platform = await TestPlatform.start()
      dir = writeProject({ 'work.ts': WORK, 'bad.ts': BAD, 'chores.ts': CHORE })
      const env = (name: string, more = ''): string => `env: { WITNESS: "${witness.url}", NAME: ${name}, FORWARD: out${more} }`
      await apply('work.yaml', manifest('work', `source: ./work.ts
${env('work')}
scale: { metric: queue, target: 5, min: 0, max: 2, scaleDownDelay: 1s, window: 6s }
triggers:
  - queue: ${fields('jobs', 'batch: 5, visibility: 5s')}`))
      await apply('sink.yaml', manifest('sink', `source: ./work.ts
${env('sink')}
triggers:
  - queue: ${fields('out', 'batch: 5')}`))
      await apply('bad.yaml', badManifest(false))
      await apply('flaky.yaml', manifest('flaky', `source: ./work.ts
${env('flaky')}
triggers:
  - queue: ${fields('flaky', 'batch: 5, visibility: 3s', relay === undefined ? undefined : relayedUrl(target.url as string, relay))}`))
    })

    function badManifest (fixed: boolean): string {
      return manifest('bad', `source: ./bad.ts
env: { WITNESS: "${witness.url}"${fixed ? ', FIXED: "yes"' : ''} }
triggers:
  - queue: ${fields('bad', 'batch: 1, maxAttempts: 3, backoff: { initial: 50ms, max: 100ms }, visibility: 5s')}`)
    }

    after(async () => {
      await platform?.stop()
      await witness?.close()
      await relay?.close()
      await target.cleanup([...queues.map((q) => target.names(q)), ...storeNames])
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    })

    test('each message reaches the handler once; the first at zero instances starts one', { timeout: 90_000 }, async () => {
      // A new version starts once to show it can, then goes back to zero: nothing is published yet.
      await waitFor(async () => (await instancesOf(platform, 'work')).length === 0, 30_000, () => 'work did not go to zero instances')
      if (target.url !== undefined) {
        await waitFor(async () => (await triggerOf(platform, 'jobs')).state === 'Connected', 20_000, () => 'the trigger never connected')
        assert.equal((await triggerOf(platform, 'jobs')).connector, target.kind)
      }
      await produce(target, platform, 'jobs', Array.from({ length: 12 }, (_, n) => ({ n })))
      await waitFor(() => seen('work').size === 12, 60_000, () => `handled ${seen('work').size} of 12`)
      assert.equal(witness.reports.filter((r) => r.fn === 'work').length, 12, 'each once')
      assert.ok((await instancesOf(platform, 'work')).length >= 1, 'the backlog started an instance')
      await waitFor(async () => (await triggerOf(platform, 'jobs')).backlog === 0, 20_000, () => 'the backlog did not drain')
    })

    test('a handler that throws uses its attempts and its message is in roost dlq; fixed and replayed, it is handled', { timeout: 90_000 }, async () => {
      await produce(target, platform, 'bad', [{ n: 1, poison: true }])
      await waitFor(async () => (await deadOf(platform, 'bad')).length === 1, 60_000, () => 'the poison message is not in the dlq')
      const [dead] = await deadOf(platform, 'bad')
      assert.deepEqual(dead?.body, { n: 1, poison: true })
      assert.equal(dead?.attempts, 3)
      assert.match(dead?.reason ?? '', /cannot handle order 1 on attempt 3 of 3: no attempts left/)
      assert.match(ok(await platform.cli(['dlq', 'list', 'bad'])), /3\/3/)

      await apply('bad.yaml', badManifest(true))
      ok(await platform.cli(['apply', '-f', join(dir, 'bad.yaml'), '--wait']), 'the fix is ready')
      assert.match(ok(await platform.cli(['dlq', 'replay', 'bad', '--all'])), /^1 dead message of queue bad replayed$/m)
      await waitFor(() => seen('bad').has(1), 60_000, () => 'the replayed message was not handled')
      assert.deepEqual(await deadOf(platform, 'bad'), [])
    })

    test('ctx.publish and the API\'s publish reach the queue a broker holds', { timeout: 90_000 }, async () => {
      await produce(target, platform, 'jobs', [{ n: 100, forward: true }])
      await publish(platform, 'out', [{ body: { n: 200 } }])
      await waitFor(() => seen('sink').has(100) && seen('sink').has(200), 60_000, () => `sink saw ${[...seen('sink')].join(', ')}`)
    })

    // The embedded queue has no connection to cut.
    if (target.url !== undefined) test('a broker cut off is a condition on the trigger, an event and a metric; publishes get 503; consumption resumes by itself', { timeout: 120_000 }, async () => {
      const cut = relay as TcpRelay
      await waitFor(async () => (await triggerOf(platform, 'flaky')).state === 'Connected', 20_000, () => 'flaky never connected')
      await cut.cut()
      await waitFor(async () => (await triggerOf(platform, 'flaky')).state !== 'Connected', 30_000, () => 'the cut was not seen')
      const row = await triggerOf(platform, 'flaky')
      assert.equal(row.reason, 'BrokerUnavailable')
      assert.match(ok(await platform.cli(['get', 'triggers'])), new RegExp(`flaky\\s.*${target.kind} BrokerUnavailable`))
      assert.match(ok(await platform.cli(['describe', 'function', 'flaky'])), /Triggers:[\s\S]*flaky\s+\S+ \S+\s+BrokerUnavailable/)
      await waitFor(async () => (await functionEvents(platform, 'flaky')).some((e) => e.reason === 'BrokerDisconnected'), 10_000, () => 'no BrokerDisconnected event')
      await waitFor(async () => new RegExp(`roost_queue_connector_up\\{[^}]*queue="flaky"[^}]*\\} 0`).test(await metricsText(platform)), 10_000, () => 'the metric does not say down')
      const refused = await platform.api(`${V1}/namespaces/default/queues/flaky/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body: { n: 1 } }) })
      assert.ok(refused.headers.get('retry-after') !== null, 'Retry-After')
      await expectProblem(refused, 503, 'ROOST_E_BROKER_UNAVAILABLE')

      // Published meanwhile straight to the broker: delivered once the trigger is back.
      await produce(target, platform, 'flaky', [{ n: 1 }, { n: 2 }, { n: 3 }])
      await cut.restore()
      await waitFor(async () => (await triggerOf(platform, 'flaky')).state === 'Connected', 60_000, () => 'the trigger did not reconnect by itself')
      await waitFor(() => seen('flaky').size === 3, 60_000, () => `flaky handled ${seen('flaky').size} of 3 after the outage`)
      assert.ok((await functionEvents(platform, 'flaky')).filter((e) => e.reason === 'BrokerConnected').length >= 2, 'connected, then connected again')
      // The series follow the gateway's reports, once a second.
      await waitFor(async () => /roost_queue_connector_up\{[^}]*queue="flaky"[^}]*\} 1/.test(await metricsText(platform)), 10_000, () => 'the metric does not say up again')
      assert.match(await metricsText(platform), /roost_queue_backlog\{[^}]*queue="jobs"[^}]*connector="[a-z]+"\} \d+/)
    })

    // The embedded queue's own case is test/e2e/events-drain.test.ts.
    if (target.url !== undefined) test('workers drained by a scale-down finish the messages they hold from the broker, each on its first attempt', { timeout: 120_000 }, async () => {
      const chores = (scale: string): string => manifest('chores', `source: ./chores.ts
env: { WITNESS: "${witness.url}" }
timeout: 10s
concurrency: 2
scale: ${scale}
triggers:
  - queue: ${fields('chores', 'batch: 1')}`)
      const reports = (phase: string): Array<{ n: number, attempt: number, pid: number }> =>
        witness.reports.filter((r) => r.fn === 'chores' && r.phase === phase) as unknown as Array<{ n: number, attempt: number, pid: number }>
      await apply('chores.yaml', chores('{ min: 3, max: 3 }'))
      await waitFor(async () => (await instancesOf(platform, 'chores')).filter((i) => i.state === 'ready').length === 3, 30_000, () => 'three ready workers')
      await waitFor(async () => (await triggerOf(platform, 'chores')).state === 'Connected', 20_000, () => 'the trigger never connected')
      // 3 workers × 2 in flight: all six are taken at once, two per worker.
      await produce(target, platform, 'chores', Array.from({ length: 6 }, (_, n) => ({ n })))
      await waitFor(() => reports('start').length === 6, 20_000, () => `${reports('start').length} of 6 taken`)
      assert.equal(new Set(reports('start').map((r) => r.pid)).size, 3, 'each worker holds two')

      await apply('chores.yaml', chores('{ min: 1, max: 1 }'))
      await waitFor(async () => (await instancesOf(platform, 'chores')).filter((i) => i.state === 'draining').length === 2, 10_000, () => 'two workers are not draining')
      assert.ok(reports('done').length < 6, 'the drain began while they still held messages')

      await waitFor(() => reports('done').length >= 6, 30_000, () => `${reports('done').length} of 6 done`)
      assert.deepEqual(reports('done').map((r) => r.n).sort(), [0, 1, 2, 3, 4, 5], 'each message once')
      assert.ok(reports('start').every((r) => r.attempt === 1), `one attempt each: ${JSON.stringify(reports('start'))}`)
      assert.equal(new Set(reports('done').map((r) => r.pid)).size, 3, 'the drained workers finished their own')
      await waitFor(async () => (await instancesOf(platform, 'chores')).length === 1, 30_000, () => 'the drained workers did not stop')
      // Nothing comes again: the broker holds none of them.
      await waitFor(async () => (await triggerOf(platform, 'chores')).backlog === 0, 20_000, () => 'the broker still counts messages of chores')
      assert.equal(reports('start').length, 6, 'no message was delivered twice')
    })

    // The example as it ships is the embedded queue; on a broker it is one line changed.
    if (target.url !== undefined) test('examples/store runs on the broker by changing one line of its manifest', { timeout: 120_000 }, async () => {
      const shipped = readFileSync(join(STORE, 'roost.yaml'), 'utf8').split('\n')
      const line = shipped.findIndex((l) => l.startsWith('    - queue:'))
      const variant = shipped.find((l) => l.startsWith('    # - queue:') && l.includes(`connector: ${target.kind},`))
      assert.ok(line >= 0 && variant !== undefined, `the manifest has a ${target.kind} line`)
      // The one line, with this run's names on the shared broker.
      const changed = [...shipped]
      changed[line] = variant.replace('# ', '').replace(/store-orders|STORE|store\.orders/g, (name) => `${RUN}-${name}`.replace(/\./g, '-'))
      const docs = parseAllDocuments(changed.join('\n')).map((doc) => doc.toJS() as { metadata: { name: string }, spec: Record<string, unknown> })
      for (const doc of docs) {
        if (doc.metadata.name !== 'fulfil') continue
        doc.spec.env = { FULFIL_LOG_URL: witness.url }
        const broker = resolveTriggers(validateFunction({ apiVersion: 'roost.dev/v1', kind: 'Function', ...doc }).spec).queues[0]?.broker
        assert.equal(broker?.connector, target.kind)
        storeNames.push({ stream: broker?.stream, group: broker?.group, consumer: broker?.consumer, subject: broker?.subject, rabbitQueue: broker?.rabbitQueue })
      }
      for (const file of ['orders.ts', 'fulfil.ts']) copyFileSync(join(STORE, file), join(dir, file))
      writeFileSync(join(dir, 'store.yaml'), docs.map((doc) => JSON.stringify(doc)).join('\n---\n'))
      // The RabbitMQ line takes its credentials from a Secret, as the example's README says to create.
      if (target.kind === 'rabbitmq') ok(await platform.cli(['secret', 'create', 'rabbit', '--from-literal', 'username=guest', '--from-literal', 'password=guest']), 'create the secret')
      ok(await platform.cli(['apply', '-f', join(dir, 'store.yaml'), '--wait']), 'apply the store')
      const ids = Array.from({ length: 20 }, (_, i) => `order-${i}`)
      for (const id of ids) {
        const response = await platform.fetch('/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, items: ['book'] }) })
        assert.equal(response.status, 202, await response.text())
      }
      const fulfilled = (): Set<unknown> => new Set(witness.reports.filter((r) => typeof r.order === 'string').map((r) => r.order))
      await waitFor(() => fulfilled().size === 20, 90_000, () => `fulfilled ${fulfilled().size} of 20`)
      assert.equal((await triggerOf(platform, 'orders')).connector, target.kind)
    })

    test('kill -9 of the platform mid-batch loses no message', { timeout: 150_000 }, async (t) => {
      await apply('steady.yaml', manifest('steady', `source: ./work.ts
env: { WITNESS: "${witness.url}", NAME: steady, FORWARD: out }
timeout: 10s
scale: { min: 1, max: 1 }
triggers:
  - queue: ${fields('steady', 'batch: 5, visibility: 3s, backoff: { initial: 100ms, max: 200ms }')}`))
      await produce(target, platform, 'steady', Array.from({ length: 20 }, (_, n) => ({ n, slowMs: 250 })))
      await waitFor(() => seen('steady').size >= 4, 60_000, () => `only ${seen('steady').size} handled before the kill`)
      const pids = (await platform.instances()).map((i) => i.pid).filter((pid) => typeof pid === 'number')
      await platform.kill()
      t.diagnostic(`killed with ${seen('steady').size} of 20 handled`)
      await waitForExit(pids, 15_000)
      const home = platform.home
      await platform.stop({ keepHome: true })
      platform = await TestPlatform.start({ home })
      await waitFor(() => seen('steady').size === 20, 90_000, () => `handled ${seen('steady').size} of 20 after the restart`)
      assert.deepEqual([...seen('steady')].map(Number).sort((a, b) => a - b), Array.from({ length: 20 }, (_, n) => n))
    })
  })
}
