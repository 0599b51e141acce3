// Elastic scaling, measured end to end on a real platform: a CPU-light
// function under 32 connections with the default scale settings against the
// same pinned to one instance, cold starts at zero with the warm pool against
// plain spawns (and `node -e 0` as the floor), a step of load from 1× to 20×,
// and rollouts and rollbacks, a scale-down and a scale to zero under constant
// load, counting every failed request.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { request, Agent } from 'undici'
import { resolveHome } from '../src/home/index.js'
import { Platform } from '../src/platform/index.js'
import { Load } from '../test/helpers/load.js'
import { describeErrors, runLoad } from './load.js'
import { BenchFailure, formatMs, formatRatio, formatRps, markdownTable, median, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

const COLD_STARTS = 50
/** Pause between two cold starts, so that the pool refills as it would between real ones. */
const COLD_START_GAP_MS = 250
const STEP_BASE_CALLERS = 2
const STEP_FACTOR = 20
/** Each request holds its instance this long: load is concurrency, not CPU. */
const STEP_REQUEST_MS = 50
const STEP_TARGET = 10
const STEP_UTILIZATION = 0.7
const HELLO = "export default () => new Response('hello world')"
const DEFAULTS_CONNECTIONS = 32
/** Load on the default-settings function before the rounds, so that the autoscaler has acted (its panic window is 6 s). */
const DEFAULTS_SETTLE_SEC = 12
const ROLL_PAIRS = 5
const ROLL_CALLERS = 40

export const elasticScaling: Suite = {
  name: 'elastic-scaling',
  title: 'Elastic scaling: cold starts, a load step, changes under load',
  run
}

interface ColdStarts {
  pooled: number[]
  spawned: number[]
  nodeFloor: number[]
}

interface StepResult {
  windowSec: number
  baseInstances: number
  needed: number
  coverSec: number
  peakInstances: number
  requests: number
  failures: number
}

interface DefaultsResult {
  /** req/s per round. */
  defaults: number[]
  pinned: number[]
  /** Most ready instances of the default-settings function seen during its load, and at its end. */
  peakInstances: number
  endInstances: number
  /** The autoscaler's last event about the default-settings function. */
  lastScaling: string
}

interface ChangeResult {
  what: string
  requests: number
  failures: number
  detail: string
}

async function run (options: SuiteOptions): Promise<SuiteReport> {
  const { log } = options
  const homes: string[] = []
  const platforms: Platform[] = []
  const start = async (warmPoolSize: number): Promise<Platform> => {
    const root = mkdtempSync(join(tmpdir(), 'roost-bench-home-'))
    homes.push(root)
    const platform = await Platform.start({ home: resolveHome({ ROOST_HOME: root }), gatewayPort: 0, apiPort: 0, logLevel: 'warn', warmPoolSize })
    platforms.push(platform)
    return platform
  }
  try {
    log('starting two platforms: warm pool of 2, and no pool (plain spawn)')
    const pooled = await start(2)
    const spawned = await start(0)
    log(`default scale settings against pinned to one instance, ${DEFAULTS_CONNECTIONS} connections`)
    const defaults = await defaultsVsPinned(spawned, options)
    const cold = await coldStarts(pooled, spawned, log)
    log('step load')
    // The default window (60 s, so a 6 s panic window) and a short one (10 s, 1 s).
    const steps = [await stepLoad(pooled, 60, log), await stepLoad(pooled, 10, log)]
    log('changes under load')
    const changes = await changesUnderLoad(pooled, log)
    return report(options, defaults, cold, steps, changes)
  } finally {
    for (const platform of platforms) await platform.stop()
    for (const home of homes) rmSync(home, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------
// default scale settings against one pinned instance

async function defaultsVsPinned (platform: Platform, options: SuiteOptions): Promise<DefaultsResult> {
  const { log } = options
  await deploy(platform, 'hello', {}, HELLO)
  await deploy(platform, 'pinned', { scale: { min: 1, max: 1 } }, HELLO)
  await until(async () => await readyCount(platform, 'pinned') === 1, 30_000, 'pinned did not start its instance')
  let peak = 0
  let polling = true
  const poller = (async () => {
    while (polling) {
      peak = Math.max(peak, await readyCount(platform, 'hello'))
      await sleep(250)
    }
  })()
  const load = async (name: string, durationSec: number): Promise<number> => {
    const result = await runLoad(options.load, { url: `${platform.config.gateway}/fn/${name}`, connections: DEFAULTS_CONNECTIONS, threads: 2, durationSec })
    const errors = describeErrors(result.errors)
    if (errors !== null || result.requests === 0) throw new BenchFailure(`${name}: not every response was a 200: ${errors ?? 'no request completed'} (of ${result.requests})`)
    return result.rps
  }
  const result: DefaultsResult = { defaults: [], pinned: [], peakInstances: 0, endInstances: 0, lastScaling: '' }
  try {
    await load('hello', DEFAULTS_SETTLE_SEC)
    log(`  after ${DEFAULTS_SETTLE_SEC} s of load the default-settings function has ${await readyCount(platform, 'hello')} ready instance(s)`)
    for (let round = 1; round <= options.runs; round++) {
      // Alternated, the warm-up of each keeps the other's scale from leaking in.
      await load('hello', options.warmupSec)
      result.defaults.push(await load('hello', options.durationSec))
      await load('pinned', options.warmupSec)
      result.pinned.push(await load('pinned', options.durationSec))
      log(`  round ${round}/${options.runs}: defaults ${formatRps(result.defaults.at(-1) ?? Number.NaN)} req/s, pinned ${formatRps(result.pinned.at(-1) ?? Number.NaN)} req/s; ${await readyCount(platform, 'hello')} instance(s) of the default one`)
    }
  } finally {
    polling = false
    await poller
  }
  result.peakInstances = peak
  result.endInstances = await readyCount(platform, 'hello')
  const { items } = await api(platform, '/namespaces/default/functions/hello/events') as { items: Array<{ reason: string, message: string }> }
  const scaling = items.filter((e) => e.reason.startsWith('Scaled') || e.reason.includes('Cap'))
  result.lastScaling = scaling.length === 0 ? 'none' : `${scaling[scaling.length - 1].reason}: ${scaling[scaling.length - 1].message}`
  // Out of the way of the cold starts that follow on this platform.
  await api(platform, '/namespaces/default/functions/hello', { method: 'DELETE' })
  await api(platform, '/namespaces/default/functions/pinned', { method: 'DELETE' })
  return result
}

// ---------------------------------------------------------------------------
// cold starts

async function coldStarts (pooled: Platform, spawned: Platform, log: (line: string) => void): Promise<ColdStarts> {
  const result: ColdStarts = { pooled: [], spawned: [], nodeFloor: [] }
  // One function per cold start: each first request finds its function at zero.
  for (const platform of [pooled, spawned]) {
    for (let i = 0; i < COLD_STARTS; i++) await deploy(platform, `cold${i}`, { scale: { min: 0, scaleDownDelay: '1s' } }, `export default () => new Response('cold ${i}')`)
  }
  // A new version starts one instance even at min 0 (to prove it); idle, it goes back to zero after the scale-down delay.
  for (const platform of [pooled, spawned]) {
    await until(async () => {
      const { items } = await api(platform, '/instances?namespace=default') as { items: InstanceItem[] }
      return !items.some((i) => i.function.startsWith('cold'))
    }, 180_000, 'the cold-start functions did not all go back to zero after their first start')
  }
  log(`  ${COLD_STARTS} functions deployed on each platform, all at zero`)
  const agent = new Agent({ connections: 4 })
  try {
    for (let i = 0; i < COLD_STARTS; i++) {
      // Interleaved, so that the noise of the machine hits all three alike.
      result.pooled.push(await firstRequest(pooled, `cold${i}`, agent))
      await sleep(COLD_START_GAP_MS)
      result.spawned.push(await firstRequest(spawned, `cold${i}`, agent))
      await sleep(COLD_START_GAP_MS)
      result.nodeFloor.push(await nodeSpawnMs())
      if ((i + 1) % 10 === 0) log(`  ${i + 1}/${COLD_STARTS} cold starts: pool p50 ${formatMs(percentile(result.pooled, 50))}, spawn p50 ${formatMs(percentile(result.spawned, 50))}`)
    }
  } finally {
    await agent.close()
  }
  return result
}

async function firstRequest (platform: Platform, name: string, agent: Agent): Promise<number> {
  const running = await instanceCount(platform, name)
  if (running !== 0) throw new BenchFailure(`${name} has ${running} instance(s) before its first request: not a cold start`)
  const started = process.hrtime.bigint()
  const response = await request(`${platform.config.gateway}/fn/${name}`, { dispatcher: agent })
  const body = await response.body.text()
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (response.statusCode !== 200 || !body.startsWith('cold')) throw new BenchFailure(`the first request to ${name} answered ${response.statusCode}: ${body}`)
  return ms
}

function nodeSpawnMs (): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
    child.once('error', reject)
    child.once('exit', () => resolve(Number(process.hrtime.bigint() - started) / 1e6))
  })
}

// ---------------------------------------------------------------------------
// a step of load

async function stepLoad (platform: Platform, windowSec: number, log: (line: string) => void): Promise<StepResult> {
  const name = `step${windowSec}`
  await deploy(platform, name, {
    concurrency: 100,
    scale: { min: 1, max: 20, target: STEP_TARGET, utilization: STEP_UTILIZATION, window: `${windowSec}s`, scaleDownDelay: '30s' }
  }, SLEEPY)
  await until(async () => await readyCount(platform, name) === 1, 30_000, `${name} did not start its instance`)
  const load = new Load(`${platform.config.gateway}/fn/${name}?ms=${STEP_REQUEST_MS}`)
  load.setCallers(STEP_BASE_CALLERS)
  await sleep(5000)
  const baseInstances = await readyCount(platform, name)
  const callers = STEP_BASE_CALLERS * STEP_FACTOR
  const needed = Math.ceil(callers / (STEP_TARGET * STEP_UTILIZATION))
  log(`  window ${windowSec}s: ${STEP_BASE_CALLERS} → ${callers} callers; ${needed} instances cover that`)
  const stepped = Date.now()
  load.setCallers(callers)
  let peak = 0
  await until(async () => {
    peak = Math.max(peak, await readyCount(platform, name))
    return peak >= needed
  }, 60_000, `${name} did not reach ${needed} ready instances`)
  const coverSec = (Date.now() - stepped) / 1000
  await sleep(3000)
  peak = Math.max(peak, await readyCount(platform, name))
  const outcome = await load.stop()
  log(`  covered in ${coverSec.toFixed(2)} s; ${outcome.failures.length} of ${load.total} failed`)
  return { windowSec, baseInstances, needed, coverSec, peakInstances: peak, requests: load.total, failures: outcome.failures.length }
}

// ---------------------------------------------------------------------------
// changes under constant load

async function changesUnderLoad (platform: Platform, log: (line: string) => void): Promise<ChangeResult[]> {
  const results: ChangeResult[] = []
  const spec = { scale: { min: 2, max: 4, window: '6s', scaleDownDelay: '2s' } }
  await deploy(platform, 'roll', spec, SLEEPY.replace("'ok'", "'r0'"))
  await until(async () => await readyCount(platform, 'roll') === 2, 30_000, 'roll did not start its 2 instances')
  const roll = new Load(`${platform.config.gateway}/fn/roll?ms=5`)
  roll.setCallers(ROLL_CALLERS)
  await sleep(2000)
  const before = snapshot(roll)
  let rolled = { requests: 0, failures: 0 }
  let back = { requests: 0, failures: 0 }
  for (let pair = 1; pair <= ROLL_PAIRS; pair++) {
    const body = `r${pair}`
    let mark = snapshot(roll)
    await deploy(platform, 'roll', spec, SLEEPY.replace("'ok'", `'${body}'`))
    const seen = roll.outcome.bodies.get(body) ?? 0
    await until(async () => (roll.outcome.bodies.get(body) ?? 0) > seen + 200, 30_000, `no request reached ${body}`)
    const latest = Math.max(...await versionsRunning(platform, 'roll'))
    await until(async () => (await versionsRunning(platform, 'roll')).every((v) => v === latest), 30_000, `the old version did not drain away after rollout ${pair}`)
    rolled = add(rolled, since(roll, mark))
    mark = snapshot(roll)
    const { to } = await rollback(platform, 'roll')
    await until(async () => { const running = await versionsRunning(platform, 'roll'); return running.length > 0 && running.every((v) => v === to) }, 30_000, `v${latest} did not drain away after rollback ${pair}`)
    await sleep(500)
    back = add(back, since(roll, mark))
    log(`  pair ${pair}/${ROLL_PAIRS}: v${latest} rolled out, back to v${to}; ${roll.outcome.failures.length - before.failures} failed so far`)
  }
  const outcome = await roll.stop()
  results.push({ what: `${ROLL_PAIRS} rollouts (new version each time)`, ...rolled, detail: `${ROLL_CALLERS} callers, min 2: each new version started, routes moved once it was ready, the old one drained` })
  results.push({ what: `${ROLL_PAIRS} rollbacks (to the version before)`, ...back, detail: 'the same, back to the previous version' })
  log(`  rollouts and rollbacks: ${outcome.failures.length - before.failures} of ${roll.total - before.requests} failed`)

  // Scale-down under traffic: 30 callers hold several instances, then 1 caller stays.
  await deploy(platform, 'shrink', { concurrency: 100, scale: { min: 0, max: 8, target: 4, utilization: 1, window: '6s', scaleDownDelay: '2s' } }, SLEEPY)
  const shrink = new Load(`${platform.config.gateway}/fn/shrink?ms=50`)
  shrink.setCallers(30)
  let peak = 0
  await until(async () => {
    peak = Math.max(peak, await readyCount(platform, 'shrink'))
    return peak >= 5
  }, 30_000, 'shrink did not grow')
  const beforeDown = snapshot(shrink)
  shrink.setCallers(1)
  await until(async () => await instanceCount(platform, 'shrink') === 1, 60_000, 'shrink did not scale down to 1 under light load')
  const last = await shrink.stop()
  results.push({ what: `scale-down ${peak} → 1 under 1 caller`, requests: shrink.total - beforeDown.requests, failures: last.failures.length - beforeDown.failures, detail: 'instances drained while the caller kept calling' })
  // Load gone: to zero after the scale-down delay; then a burst of 20 callers at zero.
  await until(async () => await instanceCount(platform, 'shrink') === 0, 30_000, 'shrink did not scale to zero')
  const burst = new Load(`${platform.config.gateway}/fn/shrink?ms=50`)
  burst.setCallers(20)
  await sleep(3000)
  const burstOutcome = await burst.stop()
  results.push({ what: 'scale to zero, then 20 callers at zero', requests: burst.total, failures: burstOutcome.failures.length, detail: 'the function went to zero when its caller stopped; the burst was held by the activator and served' })
  log(`  scale-down and zero: ${results.at(-2)?.failures} and ${results.at(-1)?.failures} failed`)
  return results
}

interface Counts { requests: number, failures: number }

function snapshot (load: Load): Counts {
  return { requests: load.total, failures: load.outcome.failures.length }
}

function since (load: Load, mark: Counts): Counts {
  const now = snapshot(load)
  return { requests: now.requests - mark.requests, failures: now.failures - mark.failures }
}

function add (a: Counts, b: Counts): Counts {
  return { requests: a.requests + b.requests, failures: a.failures + b.failures }
}

// ---------------------------------------------------------------------------
// talking to the platform

const SLEEPY = `
export default async (req: Request): Promise<Response> => {
  const ms = Number(new URL(req.url).searchParams.get('ms') ?? '0')
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
  return new Response('ok')
}
`

async function api (platform: Platform, path: string, init: { method?: string, body?: unknown } = {}): Promise<unknown> {
  const response = await fetch(`${platform.config.api}/apis/roost.dev/v1${path}`, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? { authorization: `Bearer ${platform.config.token}` } : { authorization: `Bearer ${platform.config.token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body)
  })
  const text = await response.text()
  if (response.status >= 300) throw new BenchFailure(`${init.method ?? 'GET'} ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text)
}

async function deploy (platform: Platform, name: string, spec: Record<string, unknown>, code: string): Promise<void> {
  await api(platform, `/namespaces/default/functions/${name}`, {
    method: 'PUT',
    body: { manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name }, spec: { source: { inline: code }, ...spec } } }
  })
}

async function rollback (platform: Platform, name: string): Promise<{ to: number }> {
  return await api(platform, `/namespaces/default/functions/${name}/rollback`, { method: 'POST', body: {} }) as { to: number }
}

interface InstanceItem { function: string, version: number, state: string }

async function instancesOf (platform: Platform, name: string): Promise<InstanceItem[]> {
  const { items } = await api(platform, '/instances?namespace=default') as { items: InstanceItem[] }
  return items.filter((i) => i.function === name)
}

async function instanceCount (platform: Platform, name: string): Promise<number> {
  return (await instancesOf(platform, name)).length
}

async function readyCount (platform: Platform, name: string): Promise<number> {
  return (await instancesOf(platform, name)).filter((i) => i.state === 'ready').length
}

async function versionsRunning (platform: Platform, name: string): Promise<number[]> {
  return (await instancesOf(platform, name)).map((i) => i.version)
}

async function until (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new BenchFailure(`timed out after ${timeoutMs} ms: ${what}`)
    await sleep(50)
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

// ---------------------------------------------------------------------------
// the report

function report (options: SuiteOptions, defaults: DefaultsResult, cold: ColdStarts, steps: StepResult[], changes: ChangeResult[]): SuiteReport {
  const defaultsRps = median(defaults.defaults)
  const pinnedRps = median(defaults.pinned)
  const defaultsHeader = ['hello world, 32 connections', 'req/s', 'req/s of each round', 'instances']
  const defaultsRows = [
    ['default scale settings', formatRps(defaultsRps), defaults.defaults.map(formatRps).join(' / '), `${defaults.peakInstances} at most, ${defaults.endInstances} at the end`],
    ['pinned: `scale: { min: 1, max: 1 }`', formatRps(pinnedRps), defaults.pinned.map(formatRps).join(' / '), '1'],
    ['**defaults / pinned**', formatRatio(defaultsRps / pinnedRps), defaults.defaults.map((v, i) => (v / defaults.pinned[i]).toFixed(2)).join(' / '), '']
  ]
  const row = (label: string, values: number[]): string[] => [label, String(values.length), formatMs(percentile(values, 50)), formatMs(percentile(values, 99)), formatMs(Math.max(...values))]
  const coldHeader = ['cold start (first request at zero → its response)', 'n', 'p50', 'p99', 'max']
  const coldRows = [
    row('warm pool (2 per memory size)', cold.pooled),
    row('no pool: plain spawn', cold.spawned),
    row('floor: `node -e 0` spawn to exit', cold.nodeFloor)
  ]
  const ratioRows = [
    ['pool p50 / spawn p50', (percentile(cold.pooled, 50) / percentile(cold.spawned, 50)).toFixed(2) + '×'],
    ['pool p50 / `node -e 0` p50', (percentile(cold.pooled, 50) / percentile(cold.nodeFloor, 50)).toFixed(2) + '×']
  ]
  const stepHeader = ['load step', ...steps.map((step) => `window ${step.windowSec}s (panic ${Math.max(1, Math.round(step.windowSec / 10))}s)`)]
  const stepRows = [
    ['callers (each request holds 50 ms)', ...steps.map(() => `${STEP_BASE_CALLERS} → ${STEP_BASE_CALLERS * STEP_FACTOR} (${STEP_FACTOR}×)`)],
    ['instances before the step', ...steps.map((step) => String(step.baseInstances))],
    ['instances that cover the new demand', ...steps.map((step) => `${step.needed} (= ⌈${STEP_BASE_CALLERS * STEP_FACTOR} / (${STEP_TARGET} × ${STEP_UTILIZATION})⌉)`)],
    ['seconds from the step until that many are ready', ...steps.map((step) => step.coverSec.toFixed(2))],
    ['ready instances at the peak', ...steps.map((step) => String(step.peakInstances))],
    ['requests / failed', ...steps.map((step) => `${step.requests} / ${step.failures}`)]
  ]
  const changeHeader = ['change under constant load', 'requests', 'failed', 'what happened']
  const changeRows = changes.map((c) => [c.what, String(c.requests), String(c.failures), c.detail])
  const text = [
    textTable(defaultsHeader, defaultsRows.map((r) => r.map((c) => c.replaceAll('**', '')))), `last scaling event of the default one: ${defaults.lastScaling}`, '',
    textTable(coldHeader, coldRows), '', textTable(['ratio', ''], ratioRows), '',
    textTable(stepHeader, stepRows), '', textTable(changeHeader, changeRows)
  ].join('\n')
  const markdown = [
    'Cold starts at zero (the first request to a function with no instance, until its response, through the gateway), with the warm pool against plain spawns, and the time to spawn `node -e 0` as the floor; a step of load; changes under constant load. The aims: the default settings serve at least as much as one pinned instance, cold start p50 ≤ 10 ms and p99 ≤ 25 ms with the pool, and zero failed requests everywhere.',
    '',
    `- Command: \`${options.command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpus().length} CPUs (${cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? '?'}), ${process.platform} ${process.arch}, Node ${process.version}`,
    `- Method: two platforms in this process, one with a warm pool of 2 and one without. On the one without, \`${HELLO}\` deployed twice, with the default scale settings and pinned to one instance, each loaded by ${options.load.description} with ${DEFAULTS_CONNECTIONS} connections (${DEFAULTS_SETTLE_SEC} s on the default one first, so that the autoscaler has acted; then per round ${options.warmupSec} s warm-up and ${options.durationSec} s measured, alternated, ${options.runs} round${options.runs === 1 ? '' : 's'}). Then ${COLD_STARTS} functions deployed on each (\`scale: { min: 0, scaleDownDelay: 1s }\`, each back at zero after the one start a new version gets), each called once, interleaved pool → spawn → \`node -e 0\` with ${COLD_START_GAP_MS} ms between calls. The load step and the changes run on the pooled platform with closed-loop callers (undici, keep-alive); the changes: ${ROLL_PAIRS} pairs of rollout and rollback under ${ROLL_CALLERS} callers with \`scale.min: 2\`, then a scale-down and a scale to zero; every non-200 answer counts as failed.`,
    '',
    markdownTable(defaultsHeader, defaultsRows),
    '',
    `The autoscaler's last scaling event of the default-settings function: ${defaults.lastScaling.replaceAll('|', '\\|')}`,
    '',
    markdownTable(coldHeader, coldRows),
    '',
    markdownTable(['ratio', 'value'], ratioRows),
    '',
    markdownTable(stepHeader, stepRows),
    '',
    markdownTable(changeHeader, changeRows)
  ].join('\n')
  return { text, markdown }
}
