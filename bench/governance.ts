// What governance costs at the gateway and how exact its limits are under
// load, in one platform and one run. Copies of the hello function side by
// side, each pinned to one instance: with no rules; with a rate limit far above
// the load, an error-ratio breaker and a per-tenant limit (by a header, 64
// tenants); and the same pair behind key auth, where the per-caller limit keys
// on the caller's API key. They are loaded in turn, interleaved, by wrk with
// the same header sets, so that the ratios compare the rules alone. Then two
// functions limited to 1000 requests per second (sliding window; token bucket
// with a burst of 100) are loaded well above that by a counting load loop:
// admissions per second against the limit, and the headers of every refusal.
// A second copy of the function without rules is the A/A control (how far two
// identical targets differ in this run), and the rules' own work is timed
// alone in a loop (bench/admit-cost.ts), to tell their cost from the noise.
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveHome } from '../src/home/index.js'
import { Platform } from '../src/platform/index.js'
import type { GovernedRequest } from '../src/gateway/index.js'
import { apiKeyId, type FunctionPolicy } from '../src/governance/index.js'
import { admitCost } from './admit-cost.js'
import { admittedPerSecond, countAdmissions, mostInsideAnyInterval, type AdmissionCount } from './admission-count.js'
import { cpuSamplingAvailable, machineBusy, snapshot, usageBetween, type CpuSnapshot, type CpuUsage, type Watched } from './cpu.js'
import { describeErrors, runLoad, type LoadResult } from './load.js'
import {
  applyFunction, compiledGovernance, createApiKey, metricSum, readyInstances, scrapeMetrics, waitForInstance, type FunctionManifest
} from './roost-api.js'
import { BenchFailure, formatMs, formatRatio, formatRps, markdownTable, median, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

const CONNECTIONS = 32
const WRK_THREADS = 2
const BODY = 'hello world'
const SOURCE = `export default () => new Response('${BODY}')`
const READY_TIMEOUT_MS = 60_000
/** CPU is sampled from this long after the load starts until this long before it ends. */
const CPU_MARGIN_MS = 500
/** Distinct x-tenant values the load sends, round-robin: the per-tenant limit tracks this many keys. */
const TENANTS = 64
/** API keys per key-auth function, round-robin: the per-caller limit tracks this many callers. */
const KEYS = 8
const TENANT_HEADER = 'x-tenant'
/** Far above what one instance serves here (some 20,000 req/s): never reached. */
const FUNCTION_LIMIT = 1_000_000
const PER_CALLER_LIMIT = 100_000
const ACCURACY_LIMIT = 1000
const ACCURACY_BURST = 100
const ACCURACY_CONNECTIONS = 32

type TargetId = 'none' | 'rules' | 'key' | 'key-rules' | 'none-copy'
type RulesTargetId = 'rules' | 'key-rules'
type LimiterId = 'sliding-window' | 'token-bucket'

interface Target {
  id: TargetId
  fn: string
  label: string
  url: string
  /** The instance's process. */
  pid: number
  headerSets: Array<Record<string, string>>
  /** The per-caller rule's key, for rules targets. */
  perCallerKey: string | null
  /** Keys the per-caller limit should track after the runs. */
  expectedKeys: number
  auth: boolean
  /** The compiled rules of a rules target, for the admit loop. */
  policy: FunctionPolicy | null
  /** The requests the admit loop offers the rules: what the gateway reads of wrk's. */
  governed: GovernedRequest[]
}

interface Limiter {
  id: LimiterId
  fn: string
  label: string
  url: string
  /** The most any 1-second interval may admit: the limit, plus the burst for the bucket. */
  bound: number
}

interface Measurement {
  load: LoadResult
  cpu: CpuUsage | null
}

interface AccuracyRun {
  count: AdmissionCount
  perSecond: number[]
  cpu: CpuUsage | null
}

export const governance: Suite = {
  name: 'governance',
  title: 'Governance at the gateway: the cost of rules that never refuse, and the accuracy of limits that do',
  run
}

/** The rules targets' spec.governance: a function-wide rate limit and breaker, and a per-caller limit keyed as given. */
export function rulesOf (perCallerKey: string): Record<string, unknown> {
  return {
    rules: [
      {
        name: 'function',
        rateLimit: { limit: FUNCTION_LIMIT, window: '1s' },
        breaker: { trigger: 'error-ratio', threshold: '50%', window: '10s', minRequests: 20 }
      },
      { name: 'per-caller', rateLimit: { limit: PER_CALLER_LIMIT, window: '1s', key: perCallerKey } }
    ]
  }
}

function helloManifest (name: string, extra: { auth?: 'key', governance?: Record<string, unknown> }): FunctionManifest {
  return {
    apiVersion: 'roost.dev/v1',
    kind: 'Function',
    metadata: { name },
    spec: {
      source: { inline: SOURCE },
      // Exactly one instance, whose process the CPU figures follow.
      scale: { min: 1, max: 1 },
      concurrency: 1000,
      ...(extra.auth === undefined ? {} : { http: { auth: extra.auth } }),
      ...(extra.governance === undefined ? {} : { governance: extra.governance })
    }
  }
}

const TARGETS: Array<{ id: TargetId, fn: string, label: string, auth: boolean, perCallerKey: string | null }> = [
  { id: 'none', fn: 'hello', label: 'hello, no rules', auth: false, perCallerKey: null },
  { id: 'rules', fn: 'hello-rules', label: 'hello + rate limit, breaker, per-tenant limit', auth: false, perCallerKey: `header:${TENANT_HEADER}` },
  { id: 'key', fn: 'hello-key', label: 'hello, key auth, no rules', auth: true, perCallerKey: null },
  { id: 'key-rules', fn: 'hello-key-rules', label: 'hello, key auth + rate limit, breaker, per-caller limit', auth: true, perCallerKey: 'caller' },
  { id: 'none-copy', fn: 'hello-copy', label: 'hello, no rules, a second copy (A/A control)', auth: false, perCallerKey: null }
]
/** How long the rules' own work is timed per target and round, after a warm-up of a third of it. */
const ADMIT_LOOP_MS = 1000

const LIMITERS: Array<{ id: LimiterId, fn: string, label: string, rateLimit: Record<string, unknown>, bound: number }> = [
  {
    id: 'sliding-window',
    fn: 'limited-sliding',
    label: `sliding window, ${ACCURACY_LIMIT} per 1s`,
    rateLimit: { algorithm: 'sliding-window', limit: ACCURACY_LIMIT, window: '1s' },
    bound: ACCURACY_LIMIT
  },
  {
    id: 'token-bucket',
    fn: 'limited-bucket',
    label: `token bucket, ${ACCURACY_LIMIT} per 1s, burst ${ACCURACY_BURST}`,
    rateLimit: { algorithm: 'token-bucket', limit: ACCURACY_LIMIT, window: '1s', burst: ACCURACY_BURST },
    bound: ACCURACY_LIMIT + ACCURACY_BURST
  }
]

async function run (options: SuiteOptions): Promise<SuiteReport> {
  const { log } = options
  const home = mkdtempSync(join(tmpdir(), 'roost-bench-home-'))
  let platform: Platform | null = null
  try {
    const background = cpuSamplingAvailable ? await machineBusy(1000) : null
    if (background !== null) log(`background load before the run: ${background.toFixed(0)}% of ${cpus().length * 100}%`)
    platform = await Platform.start({ home: resolveHome({ ROOST_HOME: home }), gatewayPort: 0, apiPort: 0, logLevel: 'warn' })
    const isolation = platform.isolation().mode
    const gateway = platform.config.gateway

    log(`deploying ${TARGETS.length + LIMITERS.length} functions side by side, one instance each`)
    for (const t of TARGETS) {
      await applyFunction(platform, helloManifest(t.fn, { auth: t.auth ? 'key' : undefined, governance: t.perCallerKey === null ? undefined : rulesOf(t.perCallerKey) }))
    }
    for (const l of LIMITERS) await applyFunction(platform, helloManifest(l.fn, { governance: { rules: [{ name: 'limit', rateLimit: l.rateLimit }] } }))
    const pids = new Map<string, number>()
    for (const fn of [...TARGETS.map((t) => t.fn), ...LIMITERS.map((l) => l.fn)]) pids.set(fn, await waitForInstance(platform, fn, READY_TIMEOUT_MS))

    const keysOf = new Map<string, string[]>()
    for (const t of TARGETS.filter((t) => t.auth)) {
      const keys: string[] = []
      for (let i = 0; i < KEYS; i++) keys.push(await createApiKey(platform, t.fn))
      keysOf.set(t.fn, keys)
    }
    // Every target gets the same shape of requests: a tenant and a bearer key
    // (one it accepts where it asks for keys; the function without auth passes it on unread).
    const headerSetsFor = (keys: string[]): Array<Record<string, string>> =>
      Array.from({ length: TENANTS }, (_, i) => ({ [TENANT_HEADER]: `tenant-${String(i).padStart(2, '0')}`, authorization: `Bearer ${keys[i % keys.length]}` }))
    const plainKeys = keysOf.get('hello-key') as string[]
    const targets: Target[] = TARGETS.map((t) => ({
      id: t.id,
      fn: t.fn,
      label: t.label,
      url: `${gateway}/fn/${t.fn}`,
      pid: pids.get(t.fn) as number,
      headerSets: headerSetsFor(keysOf.get(t.fn) ?? plainKeys),
      perCallerKey: t.perCallerKey,
      expectedKeys: t.perCallerKey === null ? 0 : t.auth ? KEYS : TENANTS,
      auth: t.auth,
      policy: null,
      governed: governedRequests(t.fn, headerSetsFor(keysOf.get(t.fn) ?? plainKeys), t.auth)
    }))
    const limiters: Limiter[] = LIMITERS.map((l) => ({ id: l.id, fn: l.fn, label: l.label, url: `${gateway}/fn/${l.fn}`, bound: l.bound }))

    await checkTargets(platform, targets, limiters)
    log(`targets ready (isolation ${isolation}); the rules compiled as written`)

    const results = new Map<TargetId, Measurement[]>(targets.map((t) => [t.id, []]))
    const accuracy = new Map<LimiterId, AccuracyRun[]>(limiters.map((l) => [l.id, []]))
    const admitUs = new Map<RulesTargetId, number[]>([['rules', []], ['key-rules', []]])
    for (let round = 1; round <= options.runs; round++) {
      for (const target of targets) {
        log(`round ${round}/${options.runs}: ${target.label}: warm-up ${options.warmupSec} s (every response checked), then ${options.durationSec} s measured`)
        const warm = await runLoad(options.load, { url: target.url, connections: CONNECTIONS, threads: WRK_THREADS, durationSec: options.warmupSec, check: true, expectBody: BODY, headerSets: target.headerSets })
        mustBeClean(target.label, 'warm-up', warm)
        if (warm.checkedOk === null || warm.checkedOk === 0) throw new BenchFailure(`${target.label}: the warm-up saw no 200 response with body '${BODY}'`)
        const measurement = await measure(options, target)
        mustBeClean(target.label, `round ${round}`, measurement.load)
        log(`  ${formatRps(measurement.load.rps)} req/s, p50 ${formatMs(measurement.load.p50Ms)}, p99 ${formatMs(measurement.load.p99Ms)}`)
        results.get(target.id)?.push(measurement)
      }
      for (const limiter of limiters) {
        log(`round ${round}/${options.runs}: ${limiter.label}: ${options.durationSec} s at ${ACCURACY_CONNECTIONS} connections, every answer counted`)
        const measured = await measureAccuracy(options, limiter)
        const { count } = measured
        if (count.failed > 0 || count.otherStatuses.size > 0) {
          throw new BenchFailure(`${limiter.label}, round ${round}: answers other than 200 and 429: ${JSON.stringify(Object.fromEntries(count.otherStatuses))}, ${count.failed} without an answer`)
        }
        log(`  ${formatRps(count.requests / count.seconds)} req/s offered; admitted per second ${measured.perSecond.join(' ')}`)
        accuracy.get(limiter.id)?.push(measured)
      }
      for (const [id, values] of admitUs) {
        const target = targets.find((t) => t.id === id) as Target
        const rate = (results.get(id) ?? [])[round - 1]?.load.rps ?? 20_000
        values.push(admitCost({ policy: target.policy as FunctionPolicy, requests: target.governed, rate, warmupMs: ADMIT_LOOP_MS / 3, durationMs: ADMIT_LOOP_MS }))
      }
      log(`round ${round}/${options.runs}: the rules' own work, in a loop on this thread: ${[...admitUs].map(([id, v]) => `${id} ${(v[v.length - 1] ?? NaN).toFixed(2)} µs`).join(', ')} per request`)
    }
    const metrics = await checkAfterRuns(platform, targets, limiters, pids, accuracy)
    return report(options, targets, limiters, results, accuracy, admitUs, metrics, background, isolation)
  } finally {
    await platform?.stop()
    rmSync(home, { recursive: true, force: true })
  }
}

/** What the gateway reads of each of wrk's requests for the rules: the tenant header, and with key auth the caller the key names. */
export function governedRequests (fn: string, headerSets: Array<Record<string, string>>, auth: boolean): GovernedRequest[] {
  return headerSets.map((set) => {
    const key = set.authorization.slice('Bearer '.length)
    return {
      // As the gateway sees wrk's requests: the path sent, and the function's own.
      method: 'GET',
      url: `/fn/${fn}`,
      functionPath: '/',
      caller: auth ? `key:${apiKeyId(key) ?? key}` : 'anonymous',
      ip: '127.0.0.1',
      rawHeaders: ['Host', '127.0.0.1', TENANT_HEADER, set[TENANT_HEADER], 'authorization', set.authorization]
    }
  })
}

/** Every target answers hello world with its header sets; key auth refuses a caller without a key; the rules compiled as written. */
async function checkTargets (platform: Platform, targets: Target[], limiters: Limiter[]): Promise<void> {
  for (const target of targets) {
    // New keys reach the gateway with the next routing-table push.
    const deadline = Date.now() + 10_000
    for (;;) {
      const response = await fetch(target.url, { headers: target.headerSets[0] })
      const text = await response.text()
      if (response.status === 200 && text === BODY) break
      if (Date.now() > deadline) throw new BenchFailure(`${target.label} (${target.url}) answered ${response.status} '${text.slice(0, 200)}' instead of 200 '${BODY}'`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    if (target.auth) {
      const refused = await fetch(target.url)
      await refused.body?.cancel()
      if (refused.status !== 401) throw new BenchFailure(`${target.label}: a request without a key answered ${refused.status}, not 401: key auth is not in force`)
    }
    if (target.perCallerKey !== null) {
      const { policy, problems } = await compiledGovernance(platform, target.fn)
      target.policy = policy
      const strategies = policy.rules.flatMap((rule) => rule.strategies.map((s) => {
        const key = 'key' in s ? s.key : undefined
        return `${s.kind} by ${key === undefined ? '-' : key.by}${key !== undefined && 'name' in key ? `:${key.name}` : ''}`
      }))
      const expected = ['rate-limit by function', 'breaker by -', `rate-limit by ${target.perCallerKey}`]
      if (problems.length > 0 || JSON.stringify(strategies) !== JSON.stringify(expected)) {
        throw new BenchFailure(`${target.fn}: its rules compiled to ${JSON.stringify(strategies)} with problems ${JSON.stringify(problems)}, not ${JSON.stringify(expected)}`)
      }
    }
  }
  for (const limiter of limiters) {
    const response = await fetch(limiter.url)
    const text = await response.text()
    if (response.status !== 200 || text !== BODY) throw new BenchFailure(`${limiter.label} (${limiter.url}) answered ${response.status} '${text.slice(0, 200)}' instead of 200 '${BODY}'`)
  }
}

interface AfterRuns {
  /** Keys the per-caller limits tracked, by target. */
  keys: Map<TargetId, number>
  /** Refusals the gateway counted for the limited functions, against those the load loop saw. */
  refusals: Map<LimiterId, { gateway: number, client: number }>
}

/** The same instances served every run; the rules of the targets refused nothing, tracked every key and kept their breakers closed; the gateway counted the refusals the load saw. */
async function checkAfterRuns (platform: Platform, targets: Target[], limiters: Limiter[], pids: Map<string, number>, accuracy: Map<LimiterId, AccuracyRun[]>): Promise<AfterRuns> {
  for (const [fn, pid] of pids) {
    const after = await readyInstances(platform, fn)
    if (after.length !== 1 || after[0].pid !== pid) {
      throw new BenchFailure(`expected the one instance of ${fn} (pid ${pid}) to serve every run; after the runs its ready instances are ${JSON.stringify(after.map((i) => i.pid))}`)
    }
  }
  const exposition = await scrapeMetrics(platform)
  const keys = new Map<TargetId, number>()
  for (const target of targets.filter((t) => t.perCallerKey !== null)) {
    const labels = { function: target.fn }
    const rejected = metricSum(exposition, 'roost_governance_rejected_total', labels)
    if (rejected !== 0) throw new BenchFailure(`${target.fn}: its rules refused ${rejected} requests; they should never be reached`)
    const closed = metricSum(exposition, 'roost_circuit_breaker_state', { ...labels, state: 'closed' })
    if (closed !== 1) throw new BenchFailure(`${target.fn}: its breaker is not closed after the runs (closed=${closed})`)
    const tracked = metricSum(exposition, 'roost_governance_limiter_keys', labels)
    if (tracked !== target.expectedKeys) throw new BenchFailure(`${target.fn}: the per-caller limit tracks ${tracked} keys, not the ${target.expectedKeys} the load sent`)
    keys.set(target.id, tracked)
  }
  const refusals = new Map<LimiterId, { gateway: number, client: number }>()
  for (const limiter of limiters) {
    const gateway = metricSum(exposition, 'roost_governance_rejected_total', { function: limiter.fn })
    const client = (accuracy.get(limiter.id) ?? []).reduce((sum, run) => sum + run.count.refused, 0)
    refusals.set(limiter.id, { gateway, client })
  }
  return { keys, refusals }
}

function mustBeClean (label: string, what: string, result: LoadResult): void {
  const errors = describeErrors(result.errors)
  if (errors !== null) throw new BenchFailure(`${label}, ${what}: not every response was a 200: ${errors} (of ${result.requests} requests)`)
  if (result.requests === 0) throw new BenchFailure(`${label}, ${what}: no request completed`)
}

/** Two snapshots inside the load's window, its first and last CPU_MARGIN_MS left out. */
function cpuWindow (durationSec: number, watched: () => Watched[]): { start: () => void, usage: () => CpuUsage | null } {
  const samples: { first?: CpuSnapshot, last?: CpuSnapshot } = {}
  const timers: NodeJS.Timeout[] = []
  const windowMs = durationSec * 1000 - 2 * CPU_MARGIN_MS
  return {
    start: () => {
      if (!cpuSamplingAvailable || windowMs < 500) return
      const all = watched()
      timers.push(setTimeout(() => { samples.first = snapshot(all) }, CPU_MARGIN_MS))
      timers.push(setTimeout(() => { samples.last = snapshot(all) }, CPU_MARGIN_MS + windowMs))
    },
    usage: () => {
      for (const timer of timers) clearTimeout(timer)
      return samples.first !== undefined && samples.last !== undefined ? usageBetween(samples.first, samples.last) : null
    }
  }
}

async function measure (options: SuiteOptions, target: Target): Promise<Measurement> {
  let loadgen: number | null = null
  const cpu = cpuWindow(options.durationSec, () => [
    { key: 'instance', pid: target.pid },
    ...(loadgen === null ? [] : [{ key: 'loadgen', pid: loadgen }])
  ])
  const load = await runLoad(options.load, {
    url: target.url,
    connections: CONNECTIONS,
    threads: WRK_THREADS,
    durationSec: options.durationSec,
    headerSets: target.headerSets,
    onStart: (pid) => {
      loadgen = pid
      cpu.start()
    }
  })
  return { load, cpu: cpu.usage() }
}

async function measureAccuracy (options: SuiteOptions, limiter: Limiter): Promise<AccuracyRun> {
  const cpu = cpuWindow(options.durationSec, () => [])
  const count = await countAdmissions({ url: limiter.url, connections: ACCURACY_CONNECTIONS, durationSec: options.durationSec, onStart: cpu.start })
  return { count, perSecond: admittedPerSecond(count.admittedAt, options.durationSec), cpu: cpu.usage() }
}

// --- the report ---------------------------------------------------------------

function medianOf<M> (measurements: M[], pick: (m: M) => number | null): number {
  const values = measurements.map(pick).filter((v): v is number => v !== null && Number.isFinite(v))
  return values.length === 0 ? Number.NaN : median(values)
}

type CpuPick = (m: Measurement) => number | null
const CPU_OF: Record<string, CpuPick> = {
  'gateway thread': (m) => m.cpu?.busiestOwnThread ?? null,
  instance: (m) => m.cpu?.watched.instance ?? null,
  'load generator': (m) => m.cpu === null ? null : (m.load.tool === 'wrk' ? m.cpu.watched.loadgen ?? null : m.cpu.ownMainThread),
  // The control plane and V8's helpers (and the in-process load generator's thread when wrk is absent, counted above).
  'platform, rest': (m) => m.cpu === null ? null : (m.load.tool === 'wrk' ? m.cpu.ownMainThread : 0) + m.cpu.ownOtherThreads,
  // Other users of this shared machine and kernel work charged to no process.
  other: (m) => {
    if (m.cpu === null) return null
    let listed = 0
    for (const column of ['gateway thread', 'instance', 'load generator', 'platform, rest']) listed += CPU_OF[column](m) ?? 0
    return Math.max(0, m.cpu.machine - listed)
  },
  machine: (m) => m.cpu?.machine ?? null
}

/** µs of the gateway thread per request in one measurement. */
function gwPerRequest (m: Measurement): number {
  const percent = CPU_OF['gateway thread'](m)
  return percent === null ? Number.NaN : percent / 100 / m.load.rps * 1e6
}

/** µs of CPU per request of one column: the round's share of a core over its rate, median of rounds. */
function microsPerRequest (measurements: Measurement[], pick: CpuPick): number {
  return medianOf(measurements, (m) => {
    const percent = pick(m)
    return percent === null ? null : percent / 100 / m.load.rps * 1e6
  })
}

function report (
  options: SuiteOptions, targets: Target[], limiters: Limiter[], results: Map<TargetId, Measurement[]>, accuracy: Map<LimiterId, AccuracyRun[]>,
  admitUs: Map<RulesTargetId, number[]>, after: AfterRuns, background: number | null, isolation: string
): SuiteReport {
  const of = (id: TargetId): Measurement[] => results.get(id) ?? []
  const rps = (id: TargetId): number => medianOf(of(id), (m) => m.load.rps)
  const p50 = (id: TargetId): number => medianOf(of(id), (m) => m.load.p50Ms)
  const p99 = (id: TargetId): number => medianOf(of(id), (m) => m.load.p99Ms)
  const perRound = (a: TargetId, b: TargetId, f: (x: Measurement, y: Measurement) => number): number[] => of(a).map((m, i) => f(m, of(b)[i] ?? m))
  const signedMs = (v: number): string => `${v >= 0 ? '+' : '−'}${formatMs(Math.abs(v))}`
  const signedUs = (v: number, digits = 1): string => Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)} µs` : '-'
  const plain = (v: number): string => v.toFixed(2)
  const us = (id: TargetId, column: string): number => microsPerRequest(of(id), CPU_OF[column])
  const pct = (id: TargetId, column: string): number => medianOf(of(id), CPU_OF[column])
  const n1 = (v: number): string => Number.isFinite(v) ? `${v.toFixed(1)} µs` : '-'

  const targetHeader = ['target', 'req/s', 'p50', 'p99', 'req/s of each round']
  const targetRows = targets.map((t) => [t.label, formatRps(rps(t.id)), formatMs(p50(t.id)), formatMs(p99(t.id)), of(t.id).map((m) => formatRps(m.load.rps)).join(' / ')])

  const ratioHeader = ['figure', 'of medians', 'aim', 'each round']
  const rpsRatio = (a: TargetId, b: TargetId, label: string, aim: string): string[] =>
    [label, formatRatio(rps(a) / rps(b)), aim, perRound(a, b, (x, y) => x.load.rps / y.load.rps).map(plain).join(' / ')]
  const added = (a: TargetId, b: TargetId, label: string, pick: (m: Measurement) => number): string[] =>
    [label, signedMs(medianOf(of(a), pick) - medianOf(of(b), pick)), '', perRound(a, b, (x, y) => pick(x) - pick(y)).map(signedMs).join(' / ')]
  const ratioRows = [
    rpsRatio('rules', 'none', '**rules / no rules**, req/s', '≥ 0.95'),
    added('rules', 'none', '**p99 added by the rules**', (m) => m.load.p99Ms),
    added('rules', 'none', 'p50 added by the rules', (m) => m.load.p50Ms),
    rpsRatio('key-rules', 'key', '**key auth + rules / key auth**, req/s', '≥ 0.95'),
    added('key-rules', 'key', '**p99 added by the rules, behind key auth**', (m) => m.load.p99Ms),
    added('key-rules', 'key', 'p50 added by the rules, behind key auth', (m) => m.load.p50Ms),
    rpsRatio('key', 'none', 'key auth / no rules, req/s', ''),
    added('key', 'none', 'p99 added by key auth', (m) => m.load.p99Ms),
    rpsRatio('none-copy', 'none', 'A/A: no rules, second copy / first, req/s', '1.00 ± noise'),
    added('none-copy', 'none', 'A/A: p99 difference', (m) => m.load.p99Ms)
  ]

  const cpuAvailable = of('none').some((m) => m.cpu !== null)
  const cpuColumns = ['gateway thread', 'instance', 'load generator', 'platform, rest', 'other', 'machine']
  const cpuHeader = ['target', ...cpuColumns]
  const cpuRows = targets.map((t) => [t.label, ...cpuColumns.map((c) => Number.isFinite(pct(t.id, c)) ? `${pct(t.id, c).toFixed(0)}% (${us(t.id, c).toFixed(1)} µs)` : '-')])
  const gw = (id: TargetId): number => us(id, 'gateway thread')
  const addedRounds = (a: TargetId, b: TargetId): string => perRound(a, b, (x, y) => gwPerRequest(x) - gwPerRequest(y)).map((v) => signedUs(v)).join(' / ')
  const costHeader = ['CPU per request of the gateway thread', 'with', 'without', 'added', 'added, each round']
  const admit = (id: RulesTargetId): number[] => admitUs.get(id) ?? []
  const costRows = [
    ['rules (no auth)', n1(gw('rules')), n1(gw('none')), signedUs(gw('rules') - gw('none')), addedRounds('rules', 'none')],
    ['rules behind key auth', n1(gw('key-rules')), n1(gw('key')), signedUs(gw('key-rules') - gw('key')), addedRounds('key-rules', 'key')],
    ['key auth (no rules)', n1(gw('key')), n1(gw('none')), signedUs(gw('key') - gw('none')), addedRounds('key', 'none')],
    ['A/A: second copy without rules', n1(gw('none-copy')), n1(gw('none')), signedUs(gw('none-copy') - gw('none')), addedRounds('none-copy', 'none')],
    ['the rules\' own work alone (admit loop)', '', '', signedUs(median(admit('rules')), 2), admit('rules').map((v) => signedUs(v, 2)).join(' / ')],
    ['the rules\' own work alone, behind key auth (admit loop)', '', '', signedUs(median(admit('key-rules')), 2), admit('key-rules').map((v) => signedUs(v, 2)).join(' / ')]
  ]

  const accuracyHeader = ['limiter', 'bound in any 1 s', 'offered req/s', 'admitted in the first second', 'admitted per second after it: min / median / max', 'most inside any 1 s interval', 'refused', 'with Retry-After', 'with RateLimit headers', 'gateway thread per answer']
  const accuracyRows = limiters.map((l) => {
    const runs = accuracy.get(l.id) ?? []
    const firsts = runs.map((r) => r.perSecond[0])
    const later = runs.flatMap((r) => r.perSecond.slice(1))
    const most = Math.max(...runs.map((r) => mostInsideAnyInterval(r.count.admittedSentAt, r.count.admittedAt, 1000)))
    const refused = runs.reduce((s, r) => s + r.count.refused, 0)
    const withRetry = runs.reduce((s, r) => s + r.count.refusedWithRetryAfter, 0)
    const withRateLimit = runs.reduce((s, r) => s + r.count.refusedWithRateLimit, 0)
    const offered = medianOf(runs, (r) => r.count.requests / r.count.seconds)
    const gatewayUs = medianOf(runs, (r) => r.cpu === null ? null : r.cpu.busiestOwnThread / 100 / (r.count.requests / r.count.seconds) * 1e6)
    return [
      l.label,
      formatRps(l.bound),
      formatRps(offered),
      firsts.map(String).join(' / '),
      later.length === 0 ? '-' : `${Math.min(...later)} / ${median(later)} / ${Math.max(...later)}`,
      String(most),
      refused.toLocaleString('en-US'),
      share(withRetry, refused),
      share(withRateLimit, refused),
      n1(gatewayUs)
    ]
  })
  const refusalCheck = limiters.map((l) => {
    const r = after.refusals.get(l.id) as { gateway: number, client: number }
    return `${l.fn}: the gateway counted ${r.gateway.toLocaleString('en-US')} refusals (roost_governance_rejected_total), the load loop saw ${r.client.toLocaleString('en-US')}`
  }).join('; ')

  const cores = cpus().length
  const machine = `${cores} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform} ${process.arch}, Node ${process.version}`
  const method = `${options.load.description}${options.load.tool === 'wrk' ? `, -t${WRK_THREADS} -c${CONNECTIONS} --latency` : `, ${CONNECTIONS} connections`}, ` +
    `each request with the next of ${TENANTS} header sets (\`${TENANT_HEADER}: tenant-NN\` and \`authorization: Bearer <key>\`, ${KEYS} keys; wrk: a Lua \`request\` hook of prepared requests), the same for every target; ` +
    `per target ${options.warmupSec} s warm-up (every response checked: status 200, body '${BODY}') then ${options.durationSec} s measured; ` +
    `round-robin ${targets.map((t) => t.id).join(' → ')}, then the limiters ${limiters.map((l) => l.id).join(' → ')} for ${options.durationSec} s each; ` +
    `${options.runs} round${options.runs === 1 ? '' : 's'}; median per target and figure`
  const rulesNote = `Rules of the rules targets (\`spec.governance\`): \`{ name: function, rateLimit: { limit: ${FUNCTION_LIMIT}, window: 1s }, ` +
    'breaker: { trigger: error-ratio, threshold: 50%, window: 10s, minRequests: 20 } }` and `{ name: per-caller, rateLimit: ' +
    `{ limit: ${PER_CALLER_LIMIT}, window: 1s, key: ${TARGETS[1].perCallerKey} } }\` (behind key auth \`key: caller\`, the caller being the API key); ` +
    `sliding windows (the default). After the runs the per-caller limits tracked ${[...after.keys].map(([id, n]) => `${n} keys (${id})`).join(' and ')}, ` +
    'refused nothing, and the breakers were closed (from /metrics).'
  const accuracyMethod = `Limiters: a function with one rule, loaded by a closed loop in the bench process (undici Pool, ${ACCURACY_CONNECTIONS} connections, keep-alive) ` +
    `for ${options.durationSec} s per round, each limiter idle for a round's length before; every answer's status and arrival time kept. ` +
    '"Per second" counts the 200s whose answers arrived in each whole second from the start of the load; "most inside any 1 s interval" is the most 200s ' +
    'sent and answered inside one interval of 1 s, wherever it starts: the gateway admitted each of them inside it, so unlike a count by arrival it cannot be ' +
    'inflated by the latency\'s jitter, and above the bound it would prove the limit broken. The bound is the limit, plus the burst for the token bucket. ' +
    'A refusal counts as "with Retry-After" when it has whole seconds ≥ 1, "with RateLimit headers" when it has both `RateLimit` and `RateLimit-Policy`. ' +
    `${refusalCheck}.`
  const loadWarning = options.load.tool === 'node'
    ? 'Load generator: wrk is not installed, so the in-process undici generator was used; its figures are not comparable with wrk\'s.'
    : null
  const backgroundNote = background === null
    ? 'Background load: not measured (no /proc).'
    : `Background load: ${background.toFixed(0)}% of ${cores * 100}% in the second before the platform started` +
      (background > 25 ? ' — the machine was busy with other work, so the figures are noisier than usual.' : '.')
  const cpuNote = `% of one core (${cores} cores = ${cores * 100}%), averaged over each measured run without its first and last ${CPU_MARGIN_MS} ms, median of rounds; ` +
    'in brackets, CPU µs per request. "gateway thread" is the busiest thread of the bench process besides its main thread (the platform\'s gateway worker), ' +
    '"instance" the process that runs the handler, "platform, rest" the bench process\'s other threads (the control plane, V8\'s helpers), "other" the rest of the machine (other users of this shared machine, kernel work charged to no process), "machine" everything. ' +
    '"The rules\' own work alone" is bench/admit-cost.ts: what the gateway does for a governed request (the retry budget\'s count, FunctionGovernance.admit, and finish once answered) ' +
    `in a loop on the bench's main thread, with the target's compiled policy and the same ${TENANTS} header sets, on a clock simulated at the round's req/s, ${ADMIT_LOOP_MS / 1000} s per round after a warm-up.`
  const bounds = boundsParagraph(of, limiters, accuracy, admitUs, cores, cpuAvailable)

  const text = [
    governance.title,
    `machine: ${machine}`,
    `method:  ${method}`,
    `isolation: ${isolation}`,
    backgroundNote,
    ...(loadWarning === null ? [] : [`!! ${loadWarning}`]),
    '',
    textTable(targetHeader, targetRows),
    '',
    textTable(ratioHeader, ratioRows.map((r) => r.map((cell) => cell.replaceAll('**', '')))),
    '',
    ...(cpuAvailable ? [textTable(costHeader, costRows), '', `CPU: ${cpuNote}`, textTable(cpuHeader, cpuRows), ''] : ['CPU: not sampled (no /proc on this system)', '']),
    textTable(accuracyHeader, accuracyRows),
    refusalCheck,
    '',
    `What bounds it: ${bounds}`
  ].join('\n')

  const markdown = [
    'The hello function (`new Response(\'hello world\')`, one instance, 32 connections) through the gateway with no rules, against the same function with ' +
    'a rate limit far above the load, an error-ratio circuit breaker and a per-tenant rate limit (keyed by a header, 64 tenants), all active and never reached; ' +
    'and the same pair behind key auth, where the per-caller limit keys on the caller\'s API key. A second copy of the function without rules is the A/A control: ' +
    'how far two identical targets differ in this run. The rules\' own work is also timed alone, in a loop. Then the limiters\' accuracy: functions limited to ' +
    `${ACCURACY_LIMIT} requests per second loaded well above it. The aims: rules ≥ 0.95× no rules in req/s, behind key auth too; no 1-second interval admits more than the limit (plus the burst).`,
    '',
    `- Command: \`${options.command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine}; isolation \`${isolation}\``,
    `- Method: ${method}.`,
    `- ${rulesNote}`,
    `- ${accuracyMethod}`,
    `- ${backgroundNote}`,
    ...(loadWarning === null ? [] : [`- **${loadWarning}**`]),
    '',
    markdownTable(targetHeader, targetRows),
    '',
    markdownTable(ratioHeader, ratioRows),
    '',
    ...(cpuAvailable
      ? [markdownTable(costHeader, costRows), '', `CPU: ${cpuNote}`, '', markdownTable(cpuHeader, cpuRows), '']
      : ['CPU: not sampled (no /proc on this system).', '']),
    markdownTable(accuracyHeader, accuracyRows),
    '',
    '### What bounds it',
    '',
    bounds,
    ''
  ].join('\n')
  return { text, markdown }
}

function share (part: number, whole: number): string {
  if (whole === 0) return '-'
  return part === whole ? `all (${part.toLocaleString('en-US')})` : `${part.toLocaleString('en-US')} (${(part / whole * 100).toFixed(1)}%)`
}

/** Said from this run's figures, so that it stays true when they change. */
function boundsParagraph (of: (id: TargetId) => Measurement[], limiters: Limiter[], accuracy: Map<LimiterId, AccuracyRun[]>, admitUs: Map<RulesTargetId, number[]>, cores: number, cpuAvailable: boolean): string {
  const rps = (id: TargetId): number => medianOf(of(id), (m) => m.load.rps)
  const n0 = (v: number): string => Number.isFinite(v) ? v.toFixed(0) : '-'
  const n1 = (v: number): string => Number.isFinite(v) ? v.toFixed(1) : '-'
  const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${n1(Math.abs(v))}`
  const sentences: string[] = []
  if (!cpuAvailable) {
    sentences.push('CPU use was not sampled on this system, so the bench cannot say which process bounds the throughput.')
  } else {
    const pct = (id: TargetId, column: string): number => medianOf(of(id), CPU_OF[column])
    const us = (id: TargetId, column: string): number => microsPerRequest(of(id), CPU_OF[column])
    const gw = (id: TargetId): number => us(id, 'gateway thread')
    const busy = (id: TargetId): string =>
      `${n0(pct(id, 'machine'))}% busy of ${cores * 100}%: wrk ${n0(pct(id, 'load generator'))}%, gateway thread ${n0(pct(id, 'gateway thread'))}%, ` +
      `instance ${n0(pct(id, 'instance'))}%, the rest of the platform ${n0(pct(id, 'platform, rest'))}%, other work ${n0(pct(id, 'other'))}%`
    sentences.push(`${cores} cores are shared by wrk, the gateway thread and the instance. Without rules the machine was ${busy('none')}; with the rules ${busy('rules')}.`)
    const contended = pct('none', 'other') > 20 || pct('rules', 'other') > 20
    sentences.push(
      (pct('none', 'gateway thread') >= 90
        ? 'The gateway thread is at its single-thread limit, so the throughput follows its CPU per request.'
        : 'No thread is pinned at 100%: with more runnable threads than cores each waits for a core, so the throughput follows the CPU the whole path spends per request and what else runs on the machine.') +
      (contended
        ? ' Other work took a large share of the cores during these runs, and it came and went between runs: the req/s ratios carry that noise (see each round), while the CPU each request cost is the steadier measure of what the rules add.'
        : '')
    )
    const rulesAdded = gw('rules') - gw('none')
    const aaAdded = gw('none-copy') - gw('none')
    // The A/A pair's widest difference in any round: what two identical targets may differ by here.
    const aaNoise = Math.max(...of('none-copy').map((m, i) => Math.abs(gwPerRequest(m) - gwPerRequest(of('none')[i] ?? m))).filter(Number.isFinite))
    const own = median(admitUs.get('rules') ?? [])
    const ownKey = median(admitUs.get('key-rules') ?? [])
    sentences.push(
      `Per request the gateway thread spends ${n1(gw('none'))} µs without rules and ${n1(gw('rules'))} µs with them (${signed(rulesAdded)} µs); ` +
      `the second copy without rules ${n1(gw('none-copy'))} µs (${signed(aaAdded)} µs, and at most ${n1(aaNoise)} µs apart in any round): that is how far two identical targets differ in this run. ` +
      `The rules' own work timed alone is ${own.toFixed(2)} µs per request (${ownKey.toFixed(2)} µs keyed by caller): the retry budget's count, a breaker permit, ` +
      'the function\'s sliding-window log, the tenant\'s entry of the keyed map (a Map lookup and a move to the front of its list) and its log, and the breaker\'s record when the answer goes out' +
      (rulesAdded - own > aaNoise
        ? `. The gateway thread's difference exceeds that by ${n1(rulesAdded - own)} µs, more than the A/A pair ever differs: that part is spent around the rules' code rather than in it (a CPU profile of the gateway thread would say where).`
        : '; the rest of the gateway thread\'s difference is within what two identical targets differ by.')
    )
    sentences.push(
      `Behind key auth the rules add ${signed(gw('key-rules') - gw('key'))} µs (${n1(gw('key'))} → ${n1(gw('key-rules'))} µs), and key auth itself ${signed(gw('key') - gw('none'))} µs ` +
      '(reading the key, its SHA-256 and a constant-time compare, and the x-roost-caller header the instance then gets).'
    )
    const path = (id: TargetId): number => us(id, 'gateway thread') + us(id, 'instance') + us(id, 'load generator')
    sentences.push(
      `The path (wrk + gateway thread + instance) cost ${n1(path('none'))} µs per request without rules, ${n1(path('rules'))} µs with them and ${n1(path('none-copy'))} µs for the second copy; ` +
      `the rules target reached ${(rps('rules') / rps('none')).toFixed(2)}× the throughput without rules, and the second copy ${(rps('none-copy') / rps('none')).toFixed(2)}×.`
    )
  }
  for (const l of limiters) {
    const runs = accuracy.get(l.id) ?? []
    const most = Math.max(...runs.map((r) => mostInsideAnyInterval(r.count.admittedSentAt, r.count.admittedAt, 1000)))
    const offered = medianOf(runs, (r) => r.count.requests / r.count.seconds)
    const loop = medianOf(runs, (r) => r.cpu?.ownMainThread ?? null)
    const gatewayPct = medianOf(runs, (r) => r.cpu?.busiestOwnThread ?? null)
    sentences.push(
      `The ${l.label} was offered ${formatRps(offered)} req/s, ${n0(offered / ACCURACY_LIMIT)}× its limit (the load loop's thread at ${n0(loop)}% of a core, the gateway thread at ${n0(gatewayPct)}%); ` +
      `the most admissions inside one 1-second interval were ${most}, ${most <= l.bound ? `within its bound of ${l.bound}` : `**over its bound of ${l.bound}**`}.`
    )
  }
  sentences.push(
    'A refused request never reaches the instance: the gateway answers it itself (429, a problem body, Retry-After and the RateLimit headers), ' +
    'so the limiters\' runs cost the gateway thread and the load loop, and the offered rate is what one Node thread of undici sends, not a limit of the gateway.'
  )
  return sentences.join(' ')
}
