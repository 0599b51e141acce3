// Events on one machine (issue 12), measured on a real platform in one run:
// - the embedded queue end to end (API publish → dispatcher → gateway →
//   a no-op `queue` handler → acknowledged) against the floor of what SQLite
//   allows here (a plain better-sqlite3 loop with the same statements, the
//   same batches and the same durability on a fresh file) and against the
//   EventStore driven by hand (the store's own SQL, no HTTP, no delivery);
// - publish latency of one message through the API against one committed
//   SQLite insert, EventStore.publishOne and the API's HTTP floor;
// - the store example under a burst of orders (examples/store as it ships);
// - cron firing lateness of an every-minute trigger, measured at the minute
//   boundaries that pass while the suite runs: the rest of the suite keeps
//   out of the way of each boundary, so every firing counted met an idle platform.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { Agent, request } from 'undici'
import { parseAllDocuments } from 'yaml'
import { cronQueueName } from '../src/api/index.js'
import { dueFirings, EventStore, nextFiring, parseCronSchedule } from '../src/events/index.js'
import { resolveHome } from '../src/home/index.js'
import { Platform } from '../src/platform/index.js'
import { Witness } from '../test/helpers/events.js'
import { cpuSamplingAvailable, machineBusy, snapshot, usageBetween, type CpuSnapshot, type CpuUsage, type Watched } from './cpu.js'
import { applyFunction, readyInstances, type InstanceItem } from './roost-api.js'
import { BenchFailure, formatMs, formatRatio, formatRps, markdownTable, median, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

const HERE = dirname(fileURLToPath(import.meta.url))
/** bench/events.ts compiles to dist/bench/events.js: the repository is two folders up. */
const REPO = join(HERE, '..', '..')
const PUBLISHER = join(HERE, 'events-publisher.js')
const NAMESPACE = 'default'
const V1 = '/apis/roost.dev/v1'

// --- queue throughput
const QUEUE = 'bench'
const BATCH = 100
/** Messages per target and round at --duration 8 (the default; the platform then takes a few seconds); scaled with --duration. */
const MESSAGES_AT_8S = 50_000
/** Publish requests in flight at once from the client process. */
const PUBLISH_CONCURRENCY = 4
const SINK_SOURCE = 'export default { async queue () {} }'
/** min = max = 1: the figure is one instance's; concurrency 1000 lets 10 batches of 100 be in flight (the dispatcher's room is concurrency × instances without a queue metric). */
const SINK_SPEC = {
  scale: { min: 1, max: 1 },
  concurrency: 1000,
  triggers: [{ queue: { name: QUEUE, batch: BATCH, maxBatchWait: '100ms', maxDepth: 1_000_000 } }]
}
const LEASE_MS = 30_000

// --- publish latency
const SINGLE_AT_8S = 2000
const SINGLE_WARMUP = 100

// --- the store burst
const STORE_DIR = join(REPO, 'examples', 'store')
const ORDERS = 500
/** Orders posted a second time: answered as duplicates by their key, fulfilled once. */
const REPEATS = 25
const SENDERS = 16

// --- cron
const TICK_SOURCE = `
export default {
  async scheduled (event) {
    const at = Date.now()
    await fetch(process.env.WITNESS_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scheduledTime: event.scheduledTime, at }) })
  }
}`
const TICK_SCHEDULE = '* * * * *'
/** No other work of the suite runs from this long before a minute boundary... */
const QUIET_BEFORE_MS = 1500
/** ...until the firing reached its handler, or this long after the boundary. */
const QUIET_AFTER_MAX_MS = 5000

export const events: Suite = {
  name: 'events',
  title: 'Events: the embedded queue end to end against the SQLite floor, publish latency, the store burst, cron lateness',
  run
}

interface Throughput {
  messages: number
  seconds: number
  rate: number
  cpu: CpuUsage | null
  /** Platform only: the control plane's event-loop utilization (CPU and synchronous fsync waits alike), the client's CPU in % of a core. */
  loop?: number
  clientCpu?: number
  /** Platform only: seconds until the last publish was answered, the backlog then, and the deliveries it took. */
  publishSeconds?: number
  backlogAtPublishEnd?: number
  deliveries?: number | null
}

interface Latencies { sqlite: number[], store: number[], healthz: number[], api: number[] }

interface Burst {
  orders: number
  accepted: number
  duplicateAnswers: number
  processed: number
  duplicates: number
  dead: number
  sendSec: number
  drainSec: number
  peakWorkers: number
  toPeakSec: number | null
  shrinkSec: number
}

interface Round {
  floor: Throughput
  store: Throughput
  platform: Throughput
  /** The same platform with the messages written straight into its EventStore: the delivery side alone. */
  direct: Throughput
  latency: Latencies
  burst: Burst
}

interface CronFiring {
  scheduledTime: number
  /** The handler's first line, minus the scheduled time. */
  lateMs: number
  /** The firing's record created (its createdAt, taken in the transaction before the commit), minus the scheduled time. */
  firedMs: number
  /** Leased by the dispatcher (the lease's time, before its commit), minus the scheduled time. */
  leasedMs: number
  quiet: boolean
}

interface Setup {
  platform: Platform
  sinkPid: number
  witness: Witness
  cronWitness: Witness
  eventsDb: Database.Database | null
}

// Children still running, killed if this process leaves without waiting for them.
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const child of children) child.kill('SIGKILL') })

async function run (options: SuiteOptions): Promise<SuiteReport> {
  const { log } = options
  const scale = options.durationSec / 8
  const messages = Math.max(10, Math.round(MESSAGES_AT_8S * scale / BATCH)) * BATCH
  const singles = Math.max(100, Math.round(SINGLE_AT_8S * scale))
  const dirs: string[] = []
  const temp = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    dirs.push(dir)
    return dir
  }
  let setup: Setup | null = null
  const gate = new QuietMinutes((boundary) => cronAt(setup, boundary) !== undefined, log)
  try {
    const background = cpuSamplingAvailable ? await machineBusy(1000) : null
    if (background !== null) log(`background load before the run: ${background.toFixed(0)}% of ${cpus().length * 100}%`)
    // Not gated: no cron trigger exists before it.
    setup = await gate.record(async () => await startPlatform(temp, log))
    const ready = setup
    log(`warm-up: ${messages / 10} messages through each target`)
    await gate.run('warm-up', 8000, async () => {
      await floorLoop(temp('roost-bench-floor-'), messages / 10)
      await storeLoop(temp('roost-bench-store-'), messages / 10)
      await platformRun(ready, messages / 10)
      await directRun(ready, messages / 10)
    })

    const rounds: Round[] = []
    for (let round = 1; round <= options.runs; round++) {
      log(`round ${round}/${options.runs}: ${messages} messages through each target, in batches of ${BATCH}`)
      const floorDir = temp('roost-bench-floor-')
      const storeDir = temp('roost-bench-store-')
      const floor = await gate.run('floor', 10_000, async () => await floorLoop(floorDir, messages))
      log(`  sqlite floor: ${formatRps(floor.rate)} msgs/s (${floor.seconds.toFixed(2)} s)`)
      const store = await gate.run('store', 15_000, async () => await storeLoop(storeDir, messages))
      log(`  EventStore loop: ${formatRps(store.rate)} msgs/s (${store.seconds.toFixed(2)} s)`)
      const platform = await gate.run('platform', 30_000, async () => await platformRun(ready, messages))
      log(`  platform end to end: ${formatRps(platform.rate)} msgs/s (${platform.seconds.toFixed(2)} s; publishes answered after ${platform.publishSeconds?.toFixed(2)} s with ${platform.backlogAtPublishEnd} in the backlog; ${platform.deliveries ?? '?'} deliveries)`)
      const direct = await gate.run('direct', 30_000, async () => await directRun(ready, messages))
      log(`  platform, published straight into its store: ${formatRps(direct.rate)} msgs/s (${direct.seconds.toFixed(2)} s; published after ${direct.publishSeconds?.toFixed(2)} s with ${direct.backlogAtPublishEnd} in the backlog; ${direct.deliveries ?? '?'} deliveries)`)
      log(`  publish latency: ${singles} sequential publishes per target`)
      const latency = await gate.run('latency', 30_000, async () => await latencies(ready, floorDir, storeDir, singles))
      log(`  p50 sqlite ${formatMs(percentile(latency.sqlite, 50))}, EventStore ${formatMs(percentile(latency.store, 50))}, healthz ${formatMs(percentile(latency.healthz, 50))}, API publish ${formatMs(percentile(latency.api, 50))}`)
      rmSync(floorDir, { recursive: true, force: true })
      rmSync(storeDir, { recursive: true, force: true })
      log(`  the store burst: ${ORDERS} orders (+${REPEATS} repeats)`)
      const burst = await gate.run('burst', 30_000, async () => await storeBurst(ready, round, log))
      log(`  drained in ${burst.drainSec.toFixed(1)} s, peak ${burst.peakWorkers} workers, ${burst.processed}/${burst.accepted} processed, ${burst.duplicates} duplicates, back to 1 worker ${burst.shrinkSec.toFixed(1)} s later`)
      rounds.push({ floor, store, platform, direct, latency, burst })
    }

    // Enough quiet minute boundaries for the cron figures: one per round at least.
    const deadline = Date.now() + (options.runs + 1) * 70_000
    while (quietFirings(ready, gate).length < options.runs && Date.now() < deadline) {
      const boundary = nextMinute(Date.now())
      log(`cron: ${quietFirings(ready, gate).length} quiet firing(s) so far; waiting for ${new Date(boundary).toISOString()}`)
      await gate.waitPast(boundary)
    }
    const firings = cronFirings(ready, gate)
    const calendarMs = calendarCost()
    if (!firings.some((f) => f.quiet)) throw new BenchFailure(`no firing of ${TICK_SCHEDULE} reached tick's handler at a quiet minute boundary (${firings.length} at busy ones)`)
    // The CPU figures follow one process: the sink's instance must be the one that served every round.
    const sinks = await readyPids(ready.platform, 'sink')
    if (sinks.length !== 1 || sinks[0] !== ready.sinkPid) throw new BenchFailure(`expected sink's one instance (pid ${ready.sinkPid}) to serve every round; its ready instances are now ${JSON.stringify(sinks)}`)
    return report(options, { messages, singles, background, filesystem: filesystemOf(tmpdir()), isolation: ready.platform.isolation().mode, calendarMs }, rounds, firings)
  } finally {
    setup?.eventsDb?.close()
    await setup?.platform.stop()
    await setup?.witness.close()
    await setup?.cronWitness.close()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------
// the platform and its functions

async function startPlatform (temp: (prefix: string) => string, log: (line: string) => void): Promise<Setup> {
  const root = temp('roost-bench-home-')
  const dataDir = join(root, 'data')
  const witness = await Witness.start()
  const cronWitness = await Witness.start()
  log('starting a platform; deploying the sink (queue consumer), tick (cron) and the store example')
  const platform = await Platform.start({ home: resolveHome({ ROOST_HOME: root }), dataDir, gatewayPort: 0, apiPort: 0, logLevel: 'warn' })
  try {
    await deploy(platform, 'sink', { source: { inline: SINK_SOURCE }, ...SINK_SPEC })
    await deploy(platform, 'tick', { source: { inline: TICK_SOURCE }, scale: { min: 1, max: 1 }, env: { WITNESS_URL: cronWitness.url }, triggers: [{ cron: { schedule: TICK_SCHEDULE } }] })
    // The store as it ships, with the address its fulfilments are counted at.
    const docs = parseAllDocuments(readFileSync(join(STORE_DIR, 'roost.yaml'), 'utf8')).map((doc) => doc.toJS() as { metadata: { name: string, labels?: Record<string, string> }, spec: Record<string, unknown> })
    for (const doc of docs) {
      const spec: Record<string, unknown> = { ...doc.spec, source: { inline: readFileSync(resolve(STORE_DIR, doc.spec.source as string), 'utf8') } }
      if (doc.metadata.name === 'fulfil') spec.env = { FULFIL_LOG_URL: witness.url }
      await deploy(platform, doc.metadata.name, spec, doc.metadata.labels)
    }
    for (const name of ['sink', 'tick', 'orders', 'fulfil']) await until(async () => (await readyPids(platform, name)).length >= 1, 60_000, `${name} has no ready instance`)
    const [sinkPid] = await readyPids(platform, 'sink')
    let eventsDb: Database.Database | null = null
    try {
      eventsDb = new Database(join(dataDir, 'events.db'), { readonly: true, fileMustExist: true })
    } catch (err) {
      log(`cannot read events.db beside the platform (${(err as Error).message}): deliveries per round are not counted`)
    }
    return { platform, sinkPid: sinkPid as number, witness, cronWitness, eventsDb }
  } catch (err) {
    await platform.stop()
    await witness.close()
    await cronWitness.close()
    throw err
  }
}

async function api (platform: Platform, path: string, init: { method?: string, body?: unknown } = {}): Promise<unknown> {
  const response = await fetch(`${platform.config.api}${V1}${path}`, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? { authorization: `Bearer ${platform.config.token}` } : { authorization: `Bearer ${platform.config.token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body)
  })
  const text = await response.text()
  if (response.status >= 300) throw new BenchFailure(`${init.method ?? 'GET'} ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text)
}

async function deploy (platform: Platform, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<void> {
  await applyFunction(platform, { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: labels === undefined ? { name } : { name, labels }, spec })
}

/** Every instance of the function, whatever its state (a draining one still counts as a worker). */
async function instancesOf (platform: Platform, name: string): Promise<InstanceItem[]> {
  const { items } = await api(platform, `/instances?namespace=${NAMESPACE}`) as { items: InstanceItem[] }
  return items.filter((i) => i.function === name)
}

async function readyPids (platform: Platform, name: string): Promise<number[]> {
  return (await readyInstances(platform, name)).filter((i) => i.pid !== null).map((i) => i.pid as number)
}

// ---------------------------------------------------------------------------
// queue throughput: three targets, the same messages in the same batches

/**
 * The floor: a plain table with the queue's essential columns, on a fresh
 * file, WAL + synchronous=FULL as events.db. Per batch of 100, three
 * transactions as the platform's: the inserts of one publish, one lease
 * UPDATE … RETURNING of the oldest due, and one acknowledgement update per message.
 */
async function floorLoop (dir: string, messages: number): Promise<Throughput> {
  const db = openFloor(dir)
  try {
    const insert = db.prepare("INSERT INTO messages (id, queue, state, body, created_at, not_before) VALUES (?, 'bench', 'ready', ?, ?, ?)")
    const lease = db.prepare(`
      UPDATE messages SET state = 'leased', lease_token = lease_token + 1, leased_at = @now, lease_expires_at = @expires
      WHERE seq IN (SELECT seq FROM messages WHERE queue = 'bench' AND state = 'ready' AND not_before <= @now ORDER BY not_before, seq LIMIT @max)
      RETURNING seq, lease_token`)
    const ack = db.prepare("UPDATE messages SET state = 'succeeded', finished_at = ?, lease_expires_at = NULL WHERE seq = ? AND state = 'leased' AND lease_token = ?")
    const publishTx = db.transaction((from: number, count: number) => {
      const now = Date.now()
      for (let i = 0; i < count; i++) insert.run(randomUUID(), Buffer.from(`{"n":${from + i}}`), now, now)
    })
    const leaseTx = db.transaction((max: number) => {
      const now = Date.now()
      return lease.all({ now, expires: now + LEASE_MS, max }) as Array<{ seq: number, lease_token: number }>
    })
    const ackTx = db.transaction((rows: Array<{ seq: number, lease_token: number }>) => {
      const now = Date.now()
      for (const row of rows) ack.run(now, row.seq, row.lease_token)
    })
    return await timedLoop(messages, (from, count) => {
      publishTx.immediate(from, count)
      const rows = leaseTx.immediate(count)
      if (rows.length !== count) throw new BenchFailure(`the floor leased ${rows.length} of ${count}`)
      ackTx.immediate(rows)
    })
  } finally {
    db.close()
  }
}

function openFloor (dir: string): Database.Database {
  const db = new Database(join(dir, 'floor.db'))
  if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw new BenchFailure('the floor\'s file did not take WAL mode')
  db.pragma('synchronous = FULL')
  db.exec(`
    CREATE TABLE messages (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL, state TEXT NOT NULL, body BLOB NOT NULL,
      created_at INTEGER NOT NULL, not_before INTEGER NOT NULL, lease_token INTEGER NOT NULL DEFAULT 0,
      leased_at INTEGER, lease_expires_at INTEGER, finished_at INTEGER
    ) STRICT;
    CREATE INDEX messages_due ON messages (queue, state, not_before);`)
  return db
}

/** The EventStore driven by hand: its publish, lease and settle, one transaction each per batch, on a fresh events.db. */
async function storeLoop (dir: string, messages: number): Promise<Throughput> {
  const store = EventStore.open(dir)
  try {
    store.declareQueue(NAMESPACE, QUEUE, { maxDepth: 1_000_000 })
    return await timedLoop(messages, (from, count) => {
      const records = []
      for (let i = 0; i < count; i++) records.push({ body: { n: from + i } })
      store.publish(NAMESPACE, QUEUE, records)
      const leased = store.lease(NAMESPACE, QUEUE, { max: count, leaseMs: LEASE_MS, consumer: 'bench' })
      if (leased.length !== count) throw new BenchFailure(`the EventStore leased ${leased.length} of ${count}`)
      const settled = store.settle(leased.map((r) => ({ id: r.id, token: r.token, outcome: 'succeeded' as const })))
      if (settled.some((s) => !s.settled)) throw new BenchFailure('the EventStore refused an acknowledgement')
    })
  } finally {
    store.close()
  }
}

/** Runs `batch` over the messages in batches, yielding between two (the platform shares this thread); CPU sampled around it. */
async function timedLoop (messages: number, batch: (from: number, count: number) => void): Promise<Throughput> {
  const before = cpuSamplingAvailable ? snapshot([]) : null
  const t0 = performance.now()
  for (let from = 0; from < messages; from += BATCH) {
    batch(from, Math.min(BATCH, messages - from))
    await new Promise((resolve) => setImmediate(resolve))
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = before === null ? null : usageBetween(before, snapshot([]))
  return { messages, seconds, rate: messages / seconds, cpu }
}

/** The platform: publishes through the API from a client process, from its first publish until the queue's last acknowledgement. */
async function platformRun (setup: Setup, messages: number): Promise<Throughput> {
  const { platform } = setup
  const before = platform.events.stats(NAMESPACE, QUEUE)
  if (before.backlog !== 0) throw new BenchFailure(`the ${QUEUE} queue has ${before.backlog} messages before the run`)
  const lastSeq = maxSeq(setup)
  const sample: { first?: CpuSnapshot, loop?: EventLoopUtilization } = {}
  const client = await publisher(platform, {
    mode: 'batches',
    path: `${V1}/namespaces/${NAMESPACE}/queues/${QUEUE}/messages`,
    count: messages,
    batch: BATCH,
    concurrency: PUBLISH_CONCURRENCY
  }, (pid) => {
    sample.loop = performance.eventLoopUtilization()
    if (cpuSamplingAvailable) sample.first = snapshot(watchedOf(setup))
  })
  const answered = platform.events.stats(NAMESPACE, QUEUE)
  await until(async () => platform.events.stats(NAMESPACE, QUEUE).backlog === 0, 120_000, `the ${QUEUE} queue did not drain`, 5)
  const last = sample.first === undefined ? null : snapshot(watchedOf(setup))
  const loop = sample.loop === undefined ? Number.NaN : performance.eventLoopUtilization(sample.loop).utilization
  const after = platform.events.stats(NAMESPACE, QUEUE)
  if (after.dead !== before.dead) throw new BenchFailure(`${after.dead - before.dead} messages died in the ${QUEUE} queue`)
  const endedAt = after.lastCompletedAt
  if (endedAt === undefined) throw new BenchFailure(`the ${QUEUE} queue has no completion`)
  const seconds = (endedAt - client.startedAt) / 1000
  return {
    messages,
    seconds,
    rate: messages / seconds,
    cpu: sample.first === undefined || last === null ? null : usageBetween(sample.first, last),
    loop: loop * 100,
    clientCpu: client.cpuMs / 10 / seconds,
    publishSeconds: (client.endedAt - client.startedAt) / 1000,
    backlogAtPublishEnd: answered.backlog,
    deliveries: deliveriesSince(setup, lastSeq)
  }
}

/**
 * The delivery side alone: the same batches written in this thread straight
 * into the platform's EventStore, each followed by the notification the API
 * route gives the dispatcher, yielding between two.
 */
async function directRun (setup: Setup, messages: number): Promise<Throughput> {
  const { platform } = setup
  const before = platform.events.stats(NAMESPACE, QUEUE)
  if (before.backlog !== 0) throw new BenchFailure(`the ${QUEUE} queue has ${before.backlog} messages before the run`)
  const lastSeq = maxSeq(setup)
  const first = cpuSamplingAvailable ? snapshot(watchedOf(setup)) : null
  const loopBefore = performance.eventLoopUtilization()
  const startedAt = Date.now()
  for (let from = 0; from < messages; from += BATCH) {
    const records = []
    for (let i = 0; i < Math.min(BATCH, messages - from); i++) records.push({ body: { n: from + i } })
    platform.events.publish(NAMESPACE, QUEUE, records)
    platform.eventHooks.onPublished(NAMESPACE, QUEUE)
    await new Promise((resolve) => setImmediate(resolve))
  }
  const publishedAt = Date.now()
  const answered = platform.events.stats(NAMESPACE, QUEUE)
  await until(async () => platform.events.stats(NAMESPACE, QUEUE).backlog === 0, 120_000, `the ${QUEUE} queue did not drain`, 5)
  const last = first === null ? null : snapshot(watchedOf(setup))
  const loop = performance.eventLoopUtilization(loopBefore).utilization
  const after = platform.events.stats(NAMESPACE, QUEUE)
  if (after.dead !== before.dead) throw new BenchFailure(`${after.dead - before.dead} messages died in the ${QUEUE} queue`)
  const seconds = ((after.lastCompletedAt ?? Number.NaN) - startedAt) / 1000
  return {
    messages,
    seconds,
    rate: messages / seconds,
    cpu: first === null || last === null ? null : usageBetween(first, last),
    loop: loop * 100,
    publishSeconds: (publishedAt - startedAt) / 1000,
    backlogAtPublishEnd: answered.backlog,
    deliveries: deliveriesSince(setup, lastSeq)
  }
}

function watchedOf (setup: Setup): Watched[] {
  return [{ key: 'instance', pid: setup.sinkPid }]
}

function maxSeq (setup: Setup): number {
  return (setup.eventsDb?.prepare('SELECT coalesce(max(seq), 0) FROM records').pluck().get() as number | undefined) ?? 0
}

/** Deliveries of the queue's records after `seq`: one settlement transaction ends each, so its records share their attempt's start and end. */
function deliveriesSince (setup: Setup, seq: number): number | null {
  if (setup.eventsDb === null) return null
  return setup.eventsDb.prepare(`
    SELECT count(*) FROM (SELECT DISTINCT a.started_at, a.ended_at FROM attempts a JOIN records r ON r.seq = a.record_seq
    WHERE r.seq > ? AND r.namespace = ? AND r.queue = ?)`).pluck().get(seq, NAMESPACE, QUEUE) as number
}

interface PublisherJob { mode: 'batches' | 'single' | 'get', path: string, count: number, batch?: number, concurrency?: number, warmup?: number }
interface PublisherResult { pid: number, startedAt: number, endedAt: number, cpuMs: number, latenciesMs: number[] }

/** Runs bench/events-publisher.js with one job; onStarted when its measured requests begin. */
async function publisher (platform: Platform, job: PublisherJob, onStarted?: (pid: number) => void): Promise<PublisherResult> {
  const child = spawn(process.execPath, [PUBLISHER, JSON.stringify({ ...job, origin: platform.config.api, token: platform.config.token })], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const started = !out.includes('started ') && (out + chunk).includes('started ')
    out += chunk
    if (started) onStarted?.(child.pid as number)
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  children.delete(child)
  if (code !== 0) throw new BenchFailure(`the client (${job.mode}) exited with ${String(code)}: ${err.trim() || out.trim()}`)
  const result = JSON.parse(out.trim().split('\n').at(-1) as string) as Omit<PublisherResult, 'pid'>
  return { ...result, pid: child.pid as number }
}

// ---------------------------------------------------------------------------
// publish latency

async function latencies (setup: Setup, floorDir: string, storeDir: string, count: number): Promise<Latencies> {
  const { platform } = setup
  // One committed insert on the floor's file (WAL + FULL), timed in this process.
  const db = new Database(join(floorDir, 'floor.db'))
  db.pragma('synchronous = FULL')
  const insert = db.prepare("INSERT INTO messages (id, queue, state, body, created_at, not_before) VALUES (?, 'single', 'ready', ?, ?, ?)")
  const one = db.transaction(() => { const now = Date.now(); insert.run(randomUUID(), Buffer.from('{"n":0}'), now, now) })
  const sqlite = timeEach(count, SINGLE_WARMUP, () => one.immediate())
  db.close()
  // EventStore.publishOne on the round's fresh events.db (nobody consumes there).
  const store = EventStore.open(storeDir)
  store.declareQueue(NAMESPACE, 'single', { maxDepth: 1_000_000 })
  const storeTimes = timeEach(count, SINGLE_WARMUP, () => store.publishOne(NAMESPACE, 'single', { body: { n: 0 } }))
  store.close()
  const healthz = await publisher(platform, { mode: 'get', path: '/healthz', count, warmup: SINGLE_WARMUP })
  const single = await publisher(platform, { mode: 'single', path: `${V1}/namespaces/${NAMESPACE}/queues/${QUEUE}/messages`, count, warmup: SINGLE_WARMUP })
  await until(async () => platform.events.stats(NAMESPACE, QUEUE).backlog === 0, 60_000, `the ${QUEUE} queue did not drain after the single publishes`)
  return { sqlite, store: storeTimes, healthz: healthz.latenciesMs, api: single.latenciesMs }
}

function timeEach (count: number, warmup: number, one: () => void): number[] {
  for (let i = 0; i < warmup; i++) one()
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    one()
    times.push(performance.now() - t0)
  }
  return times
}

// ---------------------------------------------------------------------------
// the store burst

interface StoreSpec { target: number, max: number, window: string, workMs: number }

function storeSpec (): StoreSpec {
  const docs = parseAllDocuments(readFileSync(join(STORE_DIR, 'roost.yaml'), 'utf8')).map((doc) => doc.toJS() as { metadata: { name: string }, spec: { scale?: { target?: number, max?: number, window?: string } } })
  const fulfil = docs.find((doc) => doc.metadata.name === 'fulfil')
  const source = readFileSync(join(STORE_DIR, 'fulfil.ts'), 'utf8')
  const workMs = Number(/FULFIL_WORK_MS \?\? (\d+)/.exec(source)?.[1] ?? Number.NaN)
  return { target: fulfil?.spec.scale?.target ?? Number.NaN, max: fulfil?.spec.scale?.max ?? Number.NaN, window: fulfil?.spec.scale?.window ?? '60s', workMs }
}

async function storeBurst (setup: Setup, round: number, log: (line: string) => void): Promise<Burst> {
  const { platform, witness } = setup
  await until(async () => (await instancesOf(platform, 'fulfil')).length === 1 && (await readyPids(platform, 'fulfil')).length === 1, 120_000, 'fulfil is not back at 1 worker before the burst')
  const ids = Array.from({ length: ORDERS }, (_, i) => `r${round}-order-${i}`)
  const sends = [...ids, ...ids.slice(0, REPEATS)]
  const reportsBefore = witness.reports.length
  const deadBefore = platform.events.stats(NAMESPACE, 'orders').dead
  const accepted = new Set<string>()
  let duplicateAnswers = 0
  let peak = 0
  let peakAt: number | null = null
  let sampling = true
  const { max } = storeSpec()
  const agent = new Agent({ connections: SENDERS })
  const started = Date.now()
  const sampler = (async () => {
    while (sampling) {
      const ready = (await readyPids(platform, 'fulfil')).length
      if (ready > peak) {
        peak = ready
        if (ready >= max) peakAt ??= Date.now()
      }
      await sleep(250)
    }
  })()
  try {
    let next = 0
    await Promise.all(Array.from({ length: SENDERS }, async () => {
      while (next < sends.length) {
        const id = sends[next++] as string
        const response = await request(`${platform.config.gateway}/orders`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, items: ['book'] }) })
        const text = await response.body.text()
        if (response.statusCode !== 202) throw new BenchFailure(`POST /orders answered ${response.statusCode}: ${text}`)
        const answer = JSON.parse(text) as { accepted?: string, duplicate?: boolean }
        accepted.add(answer.accepted as string)
        if (answer.duplicate === true) duplicateAnswers++
      }
    }))
    const sent = Date.now()
    const fulfilled = (): Map<unknown, number> => {
      const counts = new Map<unknown, number>()
      for (const report of witness.reports.slice(reportsBefore)) counts.set(report.order, (counts.get(report.order) ?? 0) + 1)
      return counts
    }
    await until(async () => platform.events.stats(NAMESPACE, 'orders').backlog === 0 && fulfilled().size >= accepted.size, 180_000, `the orders did not drain: ${fulfilled().size} of ${accepted.size} fulfilled`)
    const stats = platform.events.stats(NAMESPACE, 'orders')
    const drainedAt = stats.lastCompletedAt ?? Date.now()
    const counts = fulfilled()
    const stray = [...counts.keys()].filter((id) => !accepted.has(id as string))
    if (stray.length > 0) throw new BenchFailure(`orders fulfilled that were never accepted: ${stray.slice(0, 5).join(', ')}`)
    await until(async () => (await instancesOf(platform, 'fulfil')).length === 1, 120_000, 'fulfil did not shrink back to 1 worker')
    const shrunk = Date.now()
    sampling = false
    await sampler
    const result: Burst = {
      orders: sends.length,
      accepted: accepted.size,
      duplicateAnswers,
      processed: counts.size,
      duplicates: [...counts.values()].reduce((sum, n) => sum + n - 1, 0),
      dead: stats.dead - deadBefore,
      sendSec: (sent - started) / 1000,
      drainSec: (drainedAt - started) / 1000,
      peakWorkers: peak,
      toPeakSec: peakAt === null ? null : (peakAt - started) / 1000,
      shrinkSec: (shrunk - drainedAt) / 1000
    }
    if (result.processed !== result.accepted) throw new BenchFailure(`${result.processed} of ${result.accepted} accepted orders were fulfilled`)
    log(`  orders sent in ${result.sendSec.toFixed(1)} s; ${result.duplicateAnswers} answered as duplicates`)
    return result
  } finally {
    sampling = false
    await sampler
    await agent.close()
  }
}

// ---------------------------------------------------------------------------
// cron: minute boundaries kept quiet

function nextMinute (now: number): number {
  return Math.floor(now / 60_000) * 60_000 + 60_000
}

/**
 * Runs the suite's work between minute boundaries: a piece of work that
 * might not end before the next boundary (by the longest it took so far, or
 * a guess) waits until that boundary's firing has reached its handler.
 */
class QuietMinutes {
  private readonly busy: Array<{ from: number, to: number }> = []
  private readonly longest = new Map<string, number>()

  constructor (private readonly fired: (boundary: number) => boolean, private readonly log: (line: string) => void) {}

  async run<T> (label: string, guessMs: number, work: () => Promise<T>): Promise<T> {
    const expected = this.longest.get(label) ?? guessMs
    const boundary = nextMinute(Date.now())
    if (boundary - Date.now() < expected + QUIET_BEFORE_MS) {
      this.log(`  (waiting ${((boundary - Date.now()) / 1000).toFixed(0)} s for the cron firing at ${new Date(boundary).toISOString().slice(11, 19)} before ${label})`)
      await this.waitPast(boundary)
    }
    const from = Date.now()
    try {
      return await work()
    } finally {
      const to = Date.now()
      this.busy.push({ from, to })
      this.longest.set(label, Math.max(this.longest.get(label) ?? 0, to - from))
    }
  }

  /** Runs work that needs no gate, noting when it ran. */
  async record<T> (work: () => Promise<T>): Promise<T> {
    const from = Date.now()
    try {
      return await work()
    } finally {
      this.busy.push({ from, to: Date.now() })
    }
  }

  async waitPast (boundary: number): Promise<void> {
    await sleep(Math.max(0, boundary - Date.now()))
    const deadline = boundary + QUIET_AFTER_MAX_MS
    while (!this.fired(boundary) && Date.now() < deadline) await sleep(20)
  }

  /** Whether no work ran from QUIET_BEFORE_MS before the boundary until `until`. */
  quiet (boundary: number, until: number): boolean {
    return !this.busy.some((b) => b.to > boundary - QUIET_BEFORE_MS && b.from < until)
  }
}

/**
 * The scheduler's calendar work at a firing, timed here once as it does it
 * (src/dispatch/cron-scheduler.ts): the times due since the last firing, then
 * the next one, on a schedule parsed afresh (its first use, as once a minute is).
 */
function calendarCost (): number {
  const schedule = parseCronSchedule(TICK_SCHEDULE, 'UTC', { seed: `${NAMESPACE}/tick.0` })
  const boundary = nextMinute(Date.now()) - 60_000
  const t0 = performance.now()
  dueFirings(schedule, { since: boundary - 60_000, now: boundary + 1, catchUp: { policy: 'skip', windowMs: 3_600_000, max: 100 } })
  nextFiring(schedule, boundary + 1)
  return performance.now() - t0
}

function cronAt (setup: Setup | null, boundary: number): number | undefined {
  const report = setup?.cronWitness.reports.find((r) => r.scheduledTime === boundary)
  return report === undefined ? undefined : report.at as number
}

function cronFirings (setup: Setup, gate: QuietMinutes): CronFiring[] {
  const records = setup.platform.events.list(NAMESPACE, cronQueueName('tick', 0), { limit: 1000 })
  const firings: CronFiring[] = []
  for (const record of records) {
    const { scheduledTime } = JSON.parse(Buffer.from(record.body).toString('utf8')) as { scheduledTime: number }
    const at = cronAt(setup, scheduledTime)
    if (at === undefined || record.firstStartedAt === undefined) continue
    firings.push({
      scheduledTime,
      lateMs: at - scheduledTime,
      firedMs: record.createdAt - scheduledTime,
      leasedMs: record.firstStartedAt - scheduledTime,
      quiet: gate.quiet(scheduledTime, at + 1)
    })
  }
  return firings.sort((a, b) => a.scheduledTime - b.scheduledTime)
}

function quietFirings (setup: Setup, gate: QuietMinutes): CronFiring[] {
  return cronFirings(setup, gate).filter((f) => f.quiet)
}

// ---------------------------------------------------------------------------
// helpers

async function until (check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new BenchFailure(`timed out after ${timeoutMs} ms: ${what}`)
    await sleep(everyMs)
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

/** The file system type of the mount that holds `path` (from /proc/mounts), for the record. */
function filesystemOf (path: string): string {
  try {
    let best = { point: '', type: 'unknown', device: '' }
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, point, type] = line.split(' ')
      if (point === undefined || type === undefined || device === undefined) continue
      if ((path === point || path.startsWith(point.endsWith('/') ? point : `${point}/`)) && point.length >= best.point.length) best = { point, type, device }
    }
    return `${best.type} (${best.device})`
  } catch {
    return 'unknown'
  }
}

// ---------------------------------------------------------------------------
// the report

interface RunFacts {
  messages: number
  singles: number
  background: number | null
  filesystem: string
  isolation: string
  /** The cron scheduler's calendar work for one firing, timed once. */
  calendarMs: number
}

function report (options: SuiteOptions, facts: RunFacts, rounds: Round[], firings: CronFiring[]): SuiteReport {
  const pick = (f: (r: Round) => number): number => median(rounds.map(f))
  const each = (f: (r: Round) => number, format: (v: number) => string): string => rounds.map((r) => format(f(r))).join(' / ')
  const n2 = (v: number): string => Number.isFinite(v) ? v.toFixed(2) : '-'
  const n1 = (v: number): string => Number.isFinite(v) ? v.toFixed(1) : '-'
  const pct = (v: number | undefined): string => v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(0)}%`

  // --- throughput
  const targets: Array<{ label: string, of: (r: Round) => Throughput }> = [
    { label: 'SQLite floor: plain better-sqlite3 loop, same statements and batches', of: (r) => r.floor },
    { label: 'EventStore loop: publish, lease, settle by hand', of: (r) => r.store },
    { label: '**platform end to end**: API publish → dispatcher → gateway → no-op `queue` → acked', of: (r) => r.platform },
    { label: 'platform, published straight into its EventStore (no API): the delivery side alone', of: (r) => r.direct }
  ]
  const throughputHeader = ['target', 'msgs/s', 'seconds', 'msgs/s of each round']
  const throughputRows = targets.map((t) => [t.label, formatRps(pick((r) => t.of(r).rate)), n2(pick((r) => t.of(r).seconds)), each((r) => t.of(r).rate, formatRps)])
  const ratio = (a: (r: Round) => number, b: (r: Round) => number, label: string): string[] =>
    [label, formatRatio(pick(a) / pick(b)), each((r) => a(r) / b(r), n2)]
  const ratioHeader = ['ratio', 'of medians', 'each round']
  const ratioRows = [
    ratio((r) => r.platform.rate, (r) => r.floor.rate, '**platform / SQLite floor**, msgs/s'),
    ratio((r) => r.store.rate, (r) => r.floor.rate, 'EventStore loop / SQLite floor, msgs/s'),
    ratio((r) => r.platform.rate, (r) => r.store.rate, 'platform / EventStore loop, msgs/s'),
    ratio((r) => r.direct.rate, (r) => r.floor.rate, 'platform without the API / SQLite floor, msgs/s'),
    ratio((r) => r.platform.rate, (r) => r.direct.rate, 'platform / platform without the API, msgs/s')
  ]
  const cpuOk = rounds.every((r) => r.platform.cpu !== null && r.direct.cpu !== null)
  const cpuHeader = ['during', 'control-plane event loop', 'control-plane thread CPU', 'gateway thread', 'instance', 'client', 'machine']
  const loopCpu = (of: (r: Round) => Throughput, label: string): string[] => [label, '-', pct(pick((r) => of(r).cpu?.ownMainThread ?? Number.NaN)), '-', '-', '-', pct(pick((r) => of(r).cpu?.machine ?? Number.NaN))]
  const cpuRows = [
    loopCpu((r) => r.floor, 'SQLite floor (in this thread)'),
    loopCpu((r) => r.store, 'EventStore loop (in this thread)'),
    ['platform end to end',
      pct(pick((r) => r.platform.loop ?? Number.NaN)),
      pct(pick((r) => r.platform.cpu?.ownMainThread ?? Number.NaN)),
      pct(pick((r) => r.platform.cpu?.busiestOwnThread ?? Number.NaN)),
      pct(pick((r) => r.platform.cpu?.watched.instance ?? Number.NaN)),
      pct(pick((r) => r.platform.clientCpu ?? Number.NaN)),
      pct(pick((r) => r.platform.cpu?.machine ?? Number.NaN))],
    ['platform, published straight into its store',
      pct(pick((r) => r.direct.loop ?? Number.NaN)),
      pct(pick((r) => r.direct.cpu?.ownMainThread ?? Number.NaN)),
      pct(pick((r) => r.direct.cpu?.busiestOwnThread ?? Number.NaN)),
      pct(pick((r) => r.direct.cpu?.watched.instance ?? Number.NaN)),
      '-',
      pct(pick((r) => r.direct.cpu?.machine ?? Number.NaN))]
  ]

  // --- latency
  const latencyTargets: Array<{ label: string, of: (l: Latencies) => number[] }> = [
    { label: 'SQLite: one insert committed (WAL + FULL), in process', of: (l) => l.sqlite },
    { label: 'EventStore.publishOne, in process', of: (l) => l.store },
    { label: 'API `GET /healthz` (its HTTP floor), from the client process', of: (l) => l.healthz },
    { label: '**API `POST …/queues/bench/messages`, one message**', of: (l) => l.api }
  ]
  const latencyHeader = ['publish one message', 'p50', 'p99', 'p50 / p99 of each round']
  const latencyRows = latencyTargets.map((t) => [
    t.label,
    formatMs(pick((r) => percentile(t.of(r.latency), 50))),
    formatMs(pick((r) => percentile(t.of(r.latency), 99))),
    rounds.map((r) => `${formatMs(percentile(t.of(r.latency), 50))} / ${formatMs(percentile(t.of(r.latency), 99))}`).join(', ')
  ])
  const p = (of: (l: Latencies) => number[], q: number): number => pick((r) => percentile(of(r.latency), q))
  const latencyRatioRows = [
    ['API publish p50 / SQLite commit p50', formatRatio(p((l) => l.api, 50) / p((l) => l.sqlite, 50))],
    ['API publish p99 / SQLite commit p99', formatRatio(p((l) => l.api, 99) / p((l) => l.sqlite, 99))],
    ['API publish p50 − (healthz p50 + EventStore.publishOne p50)', signedMs(p((l) => l.api, 50) - p((l) => l.healthz, 50) - p((l) => l.store, 50))]
  ]

  // --- store burst
  const spec = storeSpec()
  const idealSec = Math.ceil(ORDERS / (spec.max * spec.target)) * spec.workMs / 1000
  const burstHeader = ['the store burst', 'median', 'each round']
  const burstRow = (label: string, f: (b: Burst) => number, format: (v: number) => string): string[] => [label, format(pick((r) => f(r.burst))), each((r) => f(r.burst), format)]
  const whole = (v: number): string => Number.isFinite(v) ? String(Math.round(v)) : '-'
  const burstRows = [
    burstRow('orders posted (of them repeats)', (b) => b.orders, (v) => `${whole(v)} (${REPEATS})`),
    burstRow('accepted (distinct orders)', (b) => b.accepted, whole),
    burstRow('answered as duplicates (by key)', (b) => b.duplicateAnswers, whole),
    burstRow('seconds to post them all (16 senders)', (b) => b.sendSec, n1),
    burstRow('**seconds to drain** (first order posted → last acknowledged)', (b) => b.drainSec, n1),
    burstRow(`seconds until ${spec.max} workers were ready`, (b) => b.toPeakSec ?? Number.NaN, n1),
    burstRow('**peak workers**', (b) => b.peakWorkers, whole),
    burstRow('**processed / accepted**', (b) => b.processed / b.accepted, n2),
    burstRow('**duplicates** (fulfilments past the first of an order)', (b) => b.duplicates, whole),
    burstRow('dead', (b) => b.dead, whole),
    burstRow('seconds from drained back to 1 worker', (b) => b.shrinkSec, n1),
    burstRow(`drain / ideal (${n1(idealSec)} s: ⌈${ORDERS} / (${spec.max} × ${spec.target})⌉ × ${spec.workMs / 1000} s)`, (b) => b.drainSec / idealSec, (v) => formatRatio(v))
  ]

  // --- cron
  const quiet = firings.filter((f) => f.quiet)
  const left = firings.length - quiet.length
  const cronHeader = ['cron `* * * * *`, one trigger', 'n', 'p50', 'p99', 'max']
  const cronRow = (label: string, f: (x: CronFiring) => number): string[] => {
    const values = quiet.map(f)
    return [label, String(values.length), formatMs(percentile(values, 50)), formatMs(percentile(values, 99)), formatMs(values.length === 0 ? Number.NaN : Math.max(...values))]
  }
  const cronRows = [
    cronRow('**lateness: handler started − scheduled time**', (f) => f.lateMs),
    cronRow('of it: scheduled time → the firing\'s record created (timer, calendar)', (f) => f.firedMs),
    cronRow('of it: record created → leased (its commit, the dispatcher\'s turn)', (f) => f.leasedMs - f.firedMs),
    cronRow('of it: leased → the handler\'s first line (the lease\'s commit, the delivery)', (f) => f.lateMs - f.leasedMs)
  ]

  const cores = cpus().length
  const machine = `${cores} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform} ${process.arch}, Node ${process.version}`
  const backgroundNote = facts.background === null
    ? 'Background load: not measured (no /proc).'
    : `Background load: ${facts.background.toFixed(0)}% of ${cores * 100}% in the second before the platform started` +
      (facts.background > 25 ? ' — the machine was busy with other work, so the figures are noisier than usual.' : '.')
  const method = `one platform in this process (isolation \`${facts.isolation}\`, its events.db and the baselines' files in ${tmpdir()}, ${facts.filesystem}); ` +
    `${facts.messages.toLocaleString('en-US')} messages per target and round in batches of ${BATCH}, after a warm-up pass of a tenth of that; ` +
    `round-robin floor → EventStore loop → platform → platform without the API → latency → store burst, ${options.runs} round${options.runs === 1 ? '' : 's'}; median per figure`
  const bounds = boundsParagraph(rounds, quiet, facts.calendarMs)

  const text = [
    events.title,
    `machine: ${machine}`,
    `method:  ${method}`,
    backgroundNote,
    '',
    textTable(throughputHeader, throughputRows.map(plain)),
    '',
    textTable(ratioHeader, ratioRows.map(plain)),
    '',
    ...(cpuOk ? [textTable(cpuHeader, cpuRows), ''] : []),
    textTable(latencyHeader, latencyRows.map(plain)),
    '',
    textTable(['ratio', ''], latencyRatioRows),
    '',
    textTable(burstHeader, burstRows.map(plain)),
    '',
    textTable(cronHeader, cronRows.map(plain)),
    left > 0 ? `(${left} firing(s) met other work of the suite and are left out)` : '',
    '',
    `What bounds it: ${bounds}`
  ].join('\n')

  const markdown = [
    'The embedded queue (issue 12) end to end on one platform, against what SQLite itself allows with the same durability; publish latency; the store example under a burst of orders; cron lateness.',
    '',
    `- Command: \`${options.command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine}`,
    `- Method: ${method}.`,
    `- Throughput: the platform's \`sink\` function (\`${SINK_SOURCE}\`, \`scale: { min: 1, max: 1 }\`, pinned, not the queue metric; \`concurrency: 1000\`, so up to 10 batches are in flight; trigger \`{ queue: bench, batch: ${BATCH}, maxBatchWait: 100ms }\`) gets ${facts.messages.toLocaleString('en-US')} messages published **through the API route** (\`POST …/queues/bench/messages\`, ${BATCH} per request, ${PUBLISH_CONCURRENCY} requests in flight, from a client process of its own: \`bench/events-publisher.ts\`); the time runs from the client's first publish to the queue's last acknowledgement (\`lastCompletedAt\` of its stats). ` +
    `The SQLite floor is a fresh file with \`journal_mode=WAL\`, \`synchronous=FULL\` as events.db, and a plain table with the queue's essential columns and one index; per batch of ${BATCH}, three transactions as the platform's: the ${BATCH} inserts of a publish, one \`UPDATE … WHERE seq IN (SELECT … ORDER BY not_before, seq LIMIT ${BATCH}) RETURNING\` lease, and one acknowledgement \`UPDATE\` per message. ` +
    'The EventStore loop drives `EventStore.publish`, `lease` and `settle` the same way on a fresh events.db: the store\'s own SQL (idempotency lookups, the stats triggers, one attempt row per message) without HTTP or delivery. ' +
    'The last row is the same platform with the messages written in the bench\'s thread (the control plane\'s) straight into its EventStore in the same batches, each followed by the notification the API route gives the dispatcher: the delivery side without the API.',
    `- Latency: ${facts.singles.toLocaleString('en-US')} sequential publishes of one message per target and round (after ${SINGLE_WARMUP} untimed), the API ones from the client process on one keep-alive connection, while \`sink\` consumes them.`,
    `- Store burst: \`examples/store\` as it ships (\`fulfil\`: \`scale: { metric: queue, target: ${spec.target}, min: 1, max: ${spec.max} }\`, batch 10, about ${spec.workMs / 1000} s of I/O per order), ${ORDERS} orders and ${REPEATS} repeats of them posted to \`/orders\` by ${SENDERS} senders; each fulfilment reported to a server of the bench (\`FULFIL_LOG_URL\`) to count processed against accepted; workers are the ready instances of \`fulfil\`, sampled every 250 ms; each burst starts from 1 worker.`,
    `- Cron: a function \`tick\` (\`scale: { min: 1, max: 1 }\`) with one trigger \`${TICK_SCHEDULE}\` whose handler notes \`Date.now()\` first; the firings are those of the minute boundaries that passed during the suite. The other work waits, when it might overlap a boundary, until that firing has reached its handler, so each firing counted met an idle platform${left > 0 ? ` (${left} that met other work are left out)` : ''}. The parts come from the firing's record: when it was written and leased.`,
    `- ${backgroundNote}`,
    '',
    markdownTable(throughputHeader, throughputRows),
    '',
    markdownTable(ratioHeader, ratioRows),
    '',
    ...(cpuOk
      ? [markdownTable(cpuHeader, cpuRows), '', 'CPU: % of one core, averaged over each measured run (the platform\'s from its first publish until drained), median of rounds. The control plane (API, dispatcher, events.db) is this process\'s main thread: "control-plane event loop" is its event-loop utilization (`performance.eventLoopUtilization()`: the time it was not waiting for I/O, so CPU and the synchronous fsyncs of SQLite alike), "control-plane thread CPU" its CPU alone; the gateway is the busiest other thread; "instance" is the `sink` process; "client" the publishing process (its own count of its CPU).', '']
      : ['CPU: not sampled (no /proc on this system).', '']),
    markdownTable(latencyHeader, latencyRows),
    '',
    markdownTable(['ratio', 'value'], latencyRatioRows),
    '',
    markdownTable(burstHeader, burstRows),
    '',
    markdownTable(cronHeader, cronRows),
    '',
    quiet.length < 100 ? `With ${quiet.length} firing${quiet.length === 1 ? '' : 's'}, p99 is the largest of them (nearest rank).` : '',
    '',
    '### What bounds it',
    '',
    bounds,
    ''
  ].join('\n')
  return { text, markdown }
}

/** Where the platform's time per message goes beyond the store's: the delivery side (no API) and the API's publishes. */
function apiShare (rounds: Round[]): string {
  const pick = (f: (r: Round) => number): number => median(rounds.map(f))
  const us = (rate: number): number => 1e6 / rate
  const store = pick((r) => r.store.rate)
  const direct = pick((r) => r.direct.rate)
  const platform = pick((r) => r.platform.rate)
  const delivery = us(direct) - us(store)
  const apiPart = us(platform) - us(direct)
  const part = (v: number, what: string): string => v > 0 ? `${what} ${v.toFixed(1)} µs more` : `${what} nothing measurable more (the runs differ by less than their noise)`
  return ` Without the API (messages written straight into the store) the same platform reaches ${formatRps(direct)} msgs/s: ` +
    `per message the store's work is ${us(store).toFixed(1)} µs, ${part(delivery, 'delivering it (the delivery body\'s JSON, the request to the gateway and its answer, the dispatcher\'s own steps)')}, ` +
    `and ${part(apiPart, 'publishing it through the API')}${apiPart > delivery ? ': the API\'s publishes cost more than the deliveries.' : '.'}`
}

function plain (row: string[]): string[] {
  return row.map((cell) => cell.replaceAll('**', '').replaceAll('`', ''))
}

function signedMs (v: number): string {
  return `${v >= 0 ? '+' : '−'}${formatMs(Math.abs(v))}`
}

/** Said from this run's figures, so that it stays true when they change. */
function boundsParagraph (rounds: Round[], firings: CronFiring[], calendarMs: number): string {
  const pick = (f: (r: Round) => number): number => median(rounds.map(f))
  const n0 = (v: number): string => Number.isFinite(v) ? v.toFixed(0) : '-'
  const n1 = (v: number): string => Number.isFinite(v) ? v.toFixed(1) : '-'
  const n2 = (v: number): string => Number.isFinite(v) ? v.toFixed(2) : '-'
  const sentences: string[] = []
  const messages = rounds[0]?.floor.messages ?? 0
  const commits = 3 * messages / BATCH
  const commitMs = pick((r) => r.floor.seconds) * 1000 / commits
  const floorCpu = pick((r) => r.floor.cpu?.ownMainThread ?? Number.NaN)
  const floorMachine = pick((r) => r.floor.cpu?.machine ?? Number.NaN)
  const cores = cpus().length
  const contended = (machine: number): boolean => machine >= 0.75 * cores * 100
  // What the suite's own processes used, against the machine: the rest is other users of this shared machine.
  const offCpu = (machine: number, own: number): string => contended(machine)
    ? `waiting for the WAL's fsyncs or for a core (the machine was ${n0(machine)}% busy of ${cores * 100}%, ${machine - own > own ? 'most of it' : 'some of it'} other work than this suite's)`
    : 'waiting for the WAL\'s fsyncs'
  sentences.push(
    `The floor makes ${n0(commits)} commits for ${messages.toLocaleString('en-US')} messages (three per batch of ${BATCH}), one every ${n2(commitMs)} ms; ` +
    `its thread is on CPU ${n0(floorCpu)}% of that time, the rest ${offCpu(floorMachine, floorCpu)}` +
    (floorCpu >= 65
      ? ': the statements cost more than the disk\'s flushes.'
      : floorCpu >= 35 ? ': the statements cost about as much as the disk\'s flushes.' : ': the disk\'s flushes (and the machine) bound it more than the statements.')
  )
  const storeCpu = pick((r) => r.store.cpu?.ownMainThread ?? Number.NaN)
  const storeExtraUs = (pick((r) => r.store.seconds) - pick((r) => r.floor.seconds)) * 1e6 / messages
  sentences.push(
    `The EventStore loop makes the same commits and spends ${n1(storeExtraUs)} µs more per message, on CPU ${n0(storeCpu)}% of the time: ` +
    'per publish the id and depth checks, per change of state the queue_stats trigger, per lease its housekeeping (aged records, expired leases), and per acknowledgement a read of the record, its update, an attempt row and the queue\'s completion time.'
  )
  const deliveries = pick((r) => r.platform.deliveries ?? Number.NaN)
  const platformSec = pick((r) => r.platform.seconds)
  const publishSec = pick((r) => r.platform.publishSeconds ?? Number.NaN)
  const backlog = pick((r) => r.platform.backlogAtPublishEnd ?? Number.NaN)
  const loop = pick((r) => r.platform.loop ?? Number.NaN)
  const plane = pick((r) => r.platform.cpu?.ownMainThread ?? Number.NaN)
  const gateway = pick((r) => r.platform.cpu?.busiestOwnThread ?? Number.NaN)
  const instance = pick((r) => r.platform.cpu?.watched.instance ?? Number.NaN)
  const client = pick((r) => r.platform.clientCpu ?? Number.NaN)
  const machineCpu = pick((r) => r.platform.cpu?.machine ?? Number.NaN)
  if (Number.isFinite(deliveries)) {
    const platformCommits = messages / BATCH + 2 * deliveries
    sentences.push(
      `End to end the messages went out in ${n0(deliveries)} deliveries (${n0(messages / deliveries)} messages each on average), ` +
      `so the platform made at least ${n0(platformCommits)} commits (a publish, then a lease and a settlement per delivery), ${n2(platformCommits / commits)}× the floor's.`
    )
  }
  sentences.push(
    `The last publish was answered after ${n2(publishSec)} s of the ${n2(platformSec)} s, with ${n0(backlog)} messages still in the backlog: ` +
    (backlog > messages * 0.2 ? 'the deliveries fell behind the publishes.' : 'the deliveries kept up with the publishes, a few batches behind.')
  )
  if (Number.isFinite(loop)) {
    const storeRate = pick((r) => r.store.rate)
    const platformRate = pick((r) => r.platform.rate)
    sentences.push(
      `All of that runs on the control plane's one event loop, with SQLite synchronous on it: the API reading and writing each publish, the dispatcher leasing, building each delivery's body and settling its answer. ` +
      `That loop was busy ${n0(loop)}% of the run (${n0(plane)}% on CPU, the rest ${offCpu(machineCpu, plane + gateway + instance + client)}), while the gateway thread used ${n0(gateway)}% of a core, the instance ${n0(instance)}%, the client ${n0(client)}%, the machine ${n0(machineCpu)}% of ${cores * 100}%` +
      (loop >= 85
        ? `: the control-plane loop is the bound. Its store work alone (the EventStore loop) would allow ${formatRps(storeRate)} msgs/s; the HTTP and JSON of ${n0(messages / BATCH)} publishes and the JSON of ${n0(deliveries)} deliveries and their answers on the same thread bring it to ${formatRps(platformRate)}.` +
          apiShare(rounds)
        : machineCpu >= 0.85 * cores * 100
          ? ': the cores are nearly saturated, and every part waits for one.'
          : ': no thread is saturated, so the hand-offs between them bound it.')
    )
  }
  const apiP50 = pick((r) => percentile(r.latency.api, 50))
  const sqliteP50 = pick((r) => percentile(r.latency.sqlite, 50))
  const storeP50 = pick((r) => percentile(r.latency.store, 50))
  const healthP50 = pick((r) => percentile(r.latency.healthz, 50))
  const apiP99 = pick((r) => percentile(r.latency.api, 99))
  const storeP99 = pick((r) => percentile(r.latency.store, 99))
  const healthP99 = pick((r) => percentile(r.latency.healthz, 99))
  sentences.push(
    `A single publish (p50 ${formatMs(apiP50)}) is one fsynced commit (${formatMs(sqliteP50)} alone, ${formatMs(storeP50)} through EventStore.publishOne), an HTTP round trip to the API (${formatMs(healthP50)} for /healthz), ` +
    (apiP50 - healthP50 - storeP50 > 0.02
      ? `and ${formatMs(apiP50 - healthP50 - storeP50)} for the route itself: authentication, the body's JSON and checks, the answer. `
      : 'which add up to it already: the route\'s own work (authentication, the body\'s JSON and checks, the answer) is within the noise between these runs, timed one after the other. ') +
    `Its p99 is ${formatMs(apiP99)}, against ${formatMs(healthP99)} for /healthz and ${formatMs(storeP99)} for EventStore.publishOne: ` +
    (apiP99 <= 1.3 * (healthP99 + storeP99)
      ? 'the tails of the round trip and of the commit, which this shared machine\'s scheduling makes long, add up to it.'
      : 'more than their tails together. The difference is the control-plane thread\'s other work: the dispatcher leases, delivers and settles the messages just published on that thread, and a publish that arrives meanwhile waits.')
  )
  const drain = pick((r) => r.burst.drainSec)
  const toPeak = pick((r) => r.burst.toPeakSec ?? Number.NaN)
  const send = pick((r) => r.burst.sendSec)
  const spec = storeSpec()
  const idealSec = Math.ceil(ORDERS / (spec.max * spec.target)) * spec.workMs / 1000
  sentences.push(
    `The store burst is bound by the work itself and by how fast workers come: with ${spec.max} workers × ${spec.target} orders in flight, ${ORDERS} orders of ${spec.workMs / 1000} s take at least ${n1(idealSec)} s. ` +
    `The orders were posted over ${n1(send)} s; the queue metric (⌈backlog / ${spec.target}⌉, window ${spec.window}) had ${spec.max} workers ready ${n1(toPeak)} s after the first, and the queue drained after ${n1(drain)} s (${n2(drain / idealSec)}× the ideal): ` +
    'the difference is the ramp, while fewer workers held fewer orders, and the last batches, which wait for their slowest order.'
  )
  if (firings.length > 0) {
    const mid = (f: (x: CronFiring) => number): number => percentile(firings.map(f), 50)
    sentences.push(
      `A cron firing (p50 ${formatMs(mid((f) => f.lateMs))} late, over ${firings.length}) is three steps, each at its p50. ` +
      `The scheduler keeps one setTimeout per trigger, armed at the previous firing; from the scheduled time to the record's creation ${formatMs(mid((f) => f.firedMs))} pass: ` +
      `the timer's lateness and the scheduler's own work on the control-plane thread (the trigger's last firing and its queue's backlog read, the times due and the next one worked out through cron-parser: ` +
      `${formatMs(calendarMs)} for the calendar when timed here once, on a schedule parsed afresh)` +
      `${contended(pick((r) => r.platform.cpu?.machine ?? Number.NaN)) ? ', on a busy machine whose threads wait for a core' : ''}. ` +
      `Its commit, the dispatcher's turn (a setImmediate) and the lease take ${formatMs(mid((f) => f.leasedMs - f.firedMs))}; ` +
      `the lease's commit and the delivery through the gateway to the instance's handler ${formatMs(mid((f) => f.lateMs - f.leasedMs))}. ` +
      'Nothing polls: a firing waits for no interval of the platform\'s, so its lateness is a few thread wake-ups and two commits.'
    )
  }
  return sentences.join(' ')
}
