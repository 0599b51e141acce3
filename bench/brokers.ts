// Real brokers behind queue triggers (issue 13), per broker and in one run:
// - throughput of a no-op queue function fed through Roost (broker →
//   connector → dispatcher → gateway → instance → acknowledged) against a
//   plain consumer written with the same client library, acknowledging each
//   message after a no-op handler: what a user would run instead;
// - latency from publish (with the broker's own client) to the handler's first
//   line, against the plain consumer's callback, one message at a time.
// Both throughputs are read the same way, from the broker's backlog: messages
// drained per second between the 10% and the 90% marks of a queue filled
// beforehand, so neither start-up nor the last stragglers count.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createConnector } from '../src/connectors/index.js'
import type { ConnectorKind, QueueBinding } from '../src/connectors/index.js'
import { resolveHome } from '../src/home/index.js'
import { Platform } from '../src/platform/index.js'
import { Witness } from '../test/helpers/events.js'
import { natsClient, rabbitClient, redisClient } from './broker-clients.js'
import type { BenchMessage, BenchQueue, BrokerClient, BrokerKind } from './broker-clients.js'
import { applyFunction, waitForInstance } from './roost-api.js'
import { BenchFailure, formatMs, formatRatio, formatRps, markdownTable, median, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

const BROKERS: Record<BrokerKind, { url: string, roostUrl: string, open: (url: string) => Promise<BrokerClient> }> = {
  redis: { url: 'redis://127.0.0.1:6379', roostUrl: 'redis://127.0.0.1:6379', open: redisClient },
  nats: { url: 'nats://127.0.0.1:4222', roostUrl: 'nats://127.0.0.1:4222', open: natsClient },
  rabbitmq: { url: 'amqp://guest:guest@127.0.0.1:5672', roostUrl: 'amqp://127.0.0.1:5672', open: rabbitClient }
}
/** The namespace secret the RabbitMQ trigger takes its credentials from. */
const RABBIT_SECRET = 'bench-rabbitmq'
const BATCH = 100
const MAX_ATTEMPTS = 5
/** The sink's concurrency: how many messages its one instance may hold, and so RabbitMQ's prefetch for Roost and the plain consumer alike. */
const IN_FLIGHT = 1000
/** Messages filled per target and round at --duration 8; scaled with --duration. */
const MESSAGES_AT_8S = 40_000
const LATENCY_AT_8S = 400
const LATENCY_WARMUP = 20
const BACKLOG_POLL_MS = 25
const DRAIN_TIMEOUT_MS = 120_000
const NAMESPACE = 'default'
const V1 = '/apis/roost.dev/v1'

const SINK_SOURCE = 'export default { async queue () {} }'
// The handler's first line takes the time; one POST per batch tells the bench.
const LATENCY_SOURCE = `
export default {
  async queue (batch) {
    const at = performance.timeOrigin + performance.now()
    const seen = []
    for (const message of batch) {
      const body = typeof message.body === 'string' ? JSON.parse(message.body) : message.body instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(message.body)) : message.body
      seen.push({ n: body.n, sentAt: body.sentAt, at })
    }
    await fetch(process.env.WITNESS_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(seen) })
  }
}`

export const brokers: Suite = {
  name: 'brokers',
  title: 'Brokers: a no-op queue function through Roost against a plain consumer with the same client, and publish → handler latency',
  run
}

interface Figures {
  roost: number[]
  plain: number[]
  roostLatency: number[]
  plainLatency: number[]
}

async function run (options: SuiteOptions): Promise<SuiteReport> {
  const messages = Math.max(5000, Math.round(MESSAGES_AT_8S * options.durationSec / 8))
  const singles = Math.max(50, Math.round(LATENCY_AT_8S * options.durationSec / 8))
  const prefix = `roost-bench-${randomBytes(3).toString('hex')}`
  const root = mkdtempSync(join(tmpdir(), 'roost-bench-brokers-'))
  const platform = await Platform.start({ home: resolveHome({ ROOST_HOME: root }), gatewayPort: 0, apiPort: 0, logLevel: 'warn' })
  const witness = await Witness.start()
  const figures = new Map<BrokerKind, Figures>()
  const versions = new Map<BrokerKind, string>()
  try {
    await putSecret(platform, RABBIT_SECRET, { username: 'guest', password: 'guest' })
    for (const kind of brokersToRun()) {
      const broker = BROKERS[kind]
      const client = await broker.open(broker.url)
      const f: Figures = { roost: [], plain: [], roostLatency: [], plainLatency: [] }
      figures.set(kind, f)
      try {
        versions.set(kind, await serverVersion(kind, broker.url))
        for (let round = 1; round <= options.runs; round++) {
          const name = (target: string): BenchQueue => queueNames(`${prefix}-${kind}-${target}-${round}`)
          options.log(`brokers: ${kind} round ${round}: plain consumer, ${messages} messages`)
          f.plain.push(await plainThroughput(client, name('plain'), messages))
          options.log(`brokers: ${kind} round ${round}: through Roost, ${messages} messages`)
          f.roost.push(await roostThroughput(platform, client, kind, name('roost'), messages, round))
        }
        options.log(`brokers: ${kind}: latency, ${singles} messages one at a time`)
        f.plainLatency.push(...await plainLatency(client, queueNames(`${prefix}-${kind}-plainlat`), singles))
        f.roostLatency.push(...await roostLatency(platform, client, witness, kind, queueNames(`${prefix}-${kind}-roostlat`), singles))
      } finally {
        await client.close()
      }
    }
  } finally {
    await witness.close()
    await platform.stop()
    rmSync(root, { recursive: true, force: true })
  }
  return report(options, messages, singles, figures, versions)
}

/** ROOST_BENCH_BROKERS=redis,nats runs only those (to study one); all three by default. */
function brokersToRun (): BrokerKind[] {
  const all = Object.keys(BROKERS) as BrokerKind[]
  const named = process.env.ROOST_BENCH_BROKERS
  if (named === undefined || named === '') return all
  const chosen = named.split(',').map((name) => name.trim())
  for (const name of chosen) if (!all.includes(name as BrokerKind)) throw new BenchFailure(`ROOST_BENCH_BROKERS names ${name}; the brokers are ${all.join(', ')}`)
  return chosen as BrokerKind[]
}

function queueNames (base: string): BenchQueue {
  return { name: base, subject: `${base}.in`, consumer: 'bench' }
}

// --- throughput

async function plainThroughput (client: BrokerClient, queue: BenchQueue, messages: number): Promise<number> {
  await client.prepare(queue, false)
  try {
    await client.publishMany(queue, messages)
    let handled = 0
    // As much room ahead as Roost's consumer gets here by default (its instances' concurrency): the same prefetch on RabbitMQ.
    const consumer = await client.consume(queue, BATCH, () => { handled++ }, IN_FLIGHT)
    try {
      const rate = await drainRate(client, queue, messages)
      // RabbitMQ's backlog is the ready count: up to IN_FLIGHT more may have been pushed to the consumer and not handled yet.
      if (handled < messages * 0.9 - IN_FLIGHT) throw new BenchFailure(`the plain ${client.kind} consumer handled ${handled} of ${messages}`)
      return rate
    } finally {
      await consumer.close()
    }
  } finally {
    await client.remove(queue)
  }
}

async function roostThroughput (platform: Platform, client: BrokerClient, kind: BrokerKind, queue: BenchQueue, messages: number, round: number): Promise<number> {
  const fn = `sink-${kind}-${round}`
  await prepareForRoost(client, kind, queue)
  try {
    await client.publishMany(queue, messages)
    await applyFunction(platform, {
      apiVersion: 'roost.dev/v1',
      kind: 'Function',
      metadata: { name: fn },
      spec: { source: { inline: SINK_SOURCE }, scale: { min: 1, max: 1 }, concurrency: IN_FLIGHT, triggers: [{ queue: roostTrigger(kind, queue) }] }
    })
    await waitForInstance(platform, fn, 60_000)
    return await drainRate(client, queue, messages)
  } finally {
    await deleteFunction(platform, fn)
    await client.remove(queue)
  }
}

/** Messages per second between the 10% and the 90% marks of draining `messages`, read from the broker's backlog. */
async function drainRate (client: BrokerClient, queue: BenchQueue, messages: number): Promise<number> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS
  let t10 = Number.NaN
  let left10 = Number.NaN
  for (;;) {
    const left = await client.backlog(queue)
    const now = performance.now()
    if (Number.isNaN(t10) && left <= messages * 0.9) {
      t10 = now
      left10 = left
    }
    if (left <= messages * 0.1) {
      if (Number.isNaN(t10) || now === t10) throw new BenchFailure(`${client.kind}: the queue drained between two looks ${BACKLOG_POLL_MS} ms apart; raise --duration`)
      return (left10 - left) / ((now - t10) / 1000)
    }
    if (Date.now() > deadline) throw new BenchFailure(`${client.kind}: ${left} of ${messages} messages still waiting after ${DRAIN_TIMEOUT_MS / 1000} s`)
    await sleep(BACKLOG_POLL_MS)
  }
}

// --- latency

async function plainLatency (client: BrokerClient, queue: BenchQueue, singles: number): Promise<number[]> {
  await client.prepare(queue, false)
  const arrived = new Map<number, number>()
  const consumer = await client.consume(queue, 1, (body) => {
    const at = performance.timeOrigin + performance.now()
    const message = JSON.parse(new TextDecoder().decode(body)) as BenchMessage
    arrived.set(message.n, at - message.sentAt)
  })
  try {
    return await oneAtATime(client, queue, singles, (n) => arrived.get(n))
  } finally {
    await consumer.close()
    await client.remove(queue)
  }
}

async function roostLatency (platform: Platform, client: BrokerClient, witness: Witness, kind: BrokerKind, queue: BenchQueue, singles: number): Promise<number[]> {
  const fn = `latency-${kind}`
  await prepareForRoost(client, kind, queue)
  witness.reports.length = 0
  try {
    await applyFunction(platform, {
      apiVersion: 'roost.dev/v1',
      kind: 'Function',
      metadata: { name: fn },
      spec: { source: { inline: LATENCY_SOURCE }, scale: { min: 1, max: 1 }, env: { WITNESS_URL: witness.url }, triggers: [{ queue: { ...roostTrigger(kind, queue), batch: 10 } }] }
    })
    await waitForInstance(platform, fn, 60_000)
    return await oneAtATime(client, queue, singles, (n) => {
      for (const report of witness.reports as unknown as Array<Array<{ n: number, sentAt: number, at: number }>>) {
        for (const seen of report) if (seen.n === n) return seen.at - seen.sentAt
      }
      return undefined
    })
  } finally {
    await deleteFunction(platform, fn)
    await client.remove(queue)
  }
}

/** Publishes one message at a time, each once the one before arrived; the latencies of all but the warm-up. */
async function oneAtATime (client: BrokerClient, queue: BenchQueue, singles: number, latencyOf: (n: number) => number | undefined): Promise<number[]> {
  const latencies: number[] = []
  for (let n = 0; n < LATENCY_WARMUP + singles; n++) {
    await client.publishOne(queue, { n, sentAt: performance.timeOrigin + performance.now() })
    const deadline = Date.now() + 10_000
    let latency = latencyOf(n)
    while (latency === undefined) {
      if (Date.now() > deadline) throw new BenchFailure(`${client.kind}: message ${n} did not reach its handler within 10 s`)
      await sleep(0.2)
      latency = latencyOf(n)
    }
    if (n >= LATENCY_WARMUP) latencies.push(latency)
  }
  return latencies
}

// --- Roost's side

/** The trigger a user writes for this queue (docs/connectors.md). */
function roostTrigger (kind: BrokerKind, queue: BenchQueue): Record<string, unknown> {
  const common = { name: queue.name, connector: kind, url: BROKERS[kind].roostUrl, batch: BATCH, maxAttempts: MAX_ATTEMPTS }
  switch (kind) {
    case 'redis': return { ...common, stream: queue.name, group: queue.consumer }
    case 'nats': return { ...common, stream: queue.name, subject: queue.subject, consumer: queue.consumer }
    case 'rabbitmq': return { ...common, queue: queue.name, auth: { secret: RABBIT_SECRET } }
  }
}

/**
 * The queue made before its messages are published: the stream (and for
 * Redis its group) for NATS and Redis, whose connector takes what is there;
 * for RabbitMQ, Roost's connector declares its queue as the trigger will.
 */
async function prepareForRoost (client: BrokerClient, kind: BrokerKind, queue: BenchQueue): Promise<void> {
  if (kind !== 'rabbitmq') {
    await client.prepare(queue, true)
    return
  }
  const binding: QueueBinding = {
    connector: kind as ConnectorKind,
    namespace: NAMESPACE,
    queue: queue.name,
    url: BROKERS.rabbitmq.url,
    create: true,
    // The trigger's: the queue's delivery limit derives from it, and a declaration with other arguments is refused.
    maxAttempts: MAX_ATTEMPTS,
    leaseMs: 30_000,
    rabbitQueue: queue.name,
    prefetch: BATCH
  }
  const connector = createConnector({ kind: 'rabbitmq', url: binding.url })
  await connector.connect()
  try {
    await (await connector.subscribe(binding)).close()
  } finally {
    await connector.close()
  }
}

async function putSecret (platform: Platform, name: string, data: Record<string, string>): Promise<void> {
  const { api, token } = platform.config
  const response = await fetch(`${api}${V1}/namespaces/${NAMESPACE}/secrets/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data })
  })
  if (response.status >= 300) throw new BenchFailure(`PUT secret ${name} answered ${response.status}: ${await response.text()}`)
}

async function deleteFunction (platform: Platform, name: string): Promise<void> {
  const { api, token } = platform.config
  const response = await fetch(`${api}${V1}/namespaces/${NAMESPACE}/functions/${name}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
  await response.text()
}

async function serverVersion (kind: BrokerKind, url: string): Promise<string> {
  const connector = createConnector({ kind, url })
  try {
    return (await connector.connect()).server
  } finally {
    await connector.close()
  }
}

// --- the report

function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number
}

function report (options: SuiteOptions, messages: number, singles: number, figures: Map<BrokerKind, Figures>, versions: Map<BrokerKind, string>): SuiteReport {
  const header = ['broker', 'Roost, msg/s', 'plain consumer, msg/s', 'Roost / plain', 'aim', 'each round', 'Roost p50', 'Roost p99', 'plain p50', 'plain p99']
  const rows: string[][] = []
  for (const [kind, f] of figures) {
    const ratios = f.roost.map((r, i) => r / (f.plain[i] as number))
    rows.push([
      `${kind} (${versions.get(kind) ?? '?'})`,
      formatRps(median(f.roost)),
      formatRps(median(f.plain)),
      // Each round's two drains ran back to back: the median of the rounds' ratios, as this host's speed drifts between rounds.
      formatRatio(median(ratios)),
      '≥ 0.8',
      ratios.map((r) => r.toFixed(2)).join(' / '),
      formatMs(percentile(f.roostLatency, 0.5)),
      formatMs(percentile(f.roostLatency, 0.99)),
      formatMs(percentile(f.plainLatency, 0.5)),
      formatMs(percentile(f.plainLatency, 0.99))
    ])
  }
  const method = [
    `- Command: \`${options.command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Throughput: per broker and round, a queue of its own is filled with ${messages.toLocaleString('en-US')} small JSON messages (the broker's own client, pipelined), then drained by one consumer: Roost (a function \`export default { async queue () {} }\` with \`scale: { min: 1, max: 1 }\`, \`concurrency: 1000\` and a queue trigger on the broker with \`batch: ${BATCH}\`), or a plain consumer written with the same client library (Redis XREADGROUP COUNT ${BATCH} + XACK; a JetStream durable pull consumer, \`consume({ max_messages: ${BATCH} })\` and \`ack()\`; amqplib with \`prefetch(${IN_FLIGHT})\` (what Roost's trigger gets by default here) and \`ack\` on a quorum queue), whose handler does nothing. Rate: messages drained per second between the 10% and 90% marks, from the broker's own backlog (XINFO GROUPS lag + pending; the consumer's num_pending + num_ack_pending; the queue's ready count) looked at every ${BACKLOG_POLL_MS} ms. ${options.runs} rounds, plain and Roost interleaved; medians, and the ratio is the median of the rounds' ratios (each round's two drains ran back to back).`,
    `- Latency: ${singles} messages (after ${LATENCY_WARMUP} of warm-up) published one at a time, each once the one before arrived, carrying the publisher's clock; arrival is the handler's first line (Roost: batch 10, one instance, already warm) or the plain consumer's callback. Same machine, same clock.`
  ].join('\n')
  const table = markdownTable(header, rows)
  return {
    text: `${method}\n\n${textTable(header, rows)}`,
    markdown: `A no-op queue function fed from each broker running on this machine, through Roost and through a plain consumer with the same client library, in one run.\n\n${method}\n\n${table}\n`
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
