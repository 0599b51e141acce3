// The gateway's cost and the runtime's, each against what a user would run
// instead: a plain node:http server with the same handler logic, called
// directly and behind nginx (upstream keep-alive); the Roost runtime's HTTP
// mode serving the function's bundle, called directly; the gateway in front
// of an instance with the default isolation; and the same with isolation off.
// All targets are measured in one run, interleaved, so that the noise of a
// shared machine hits them alike; the figures that matter are the ratios.
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleInline } from '../src/bundler/index.js'
import { Platform } from '../src/platform/index.js'
import { resolveHome } from '../src/home/index.js'
import { RUNTIME_SERVE_ENTRY } from '../src/runtime/index.js'
import { cpuSamplingAvailable, machineBusy, snapshot, ticksOf, usageBetween, type CpuSnapshot, type CpuUsage, type Watched } from './cpu.js'
import { describeErrors, runLoad, type LoadResult } from './load.js'
import { findNginx, startNginx, type Nginx } from './nginx.js'
import { BenchFailure, formatMs, formatRatio, formatRps, markdownTable, median, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

const CONNECTIONS = 32
const WRK_THREADS = 2
const BODY = 'hello world'
const SOURCE = `export default () => new Response('${BODY}')`
const FUNCTION_NAME = 'hello'
const READY_TIMEOUT_MS = 60_000
/** CPU is sampled from this long after the load starts until this long before it ends (connects and teardown excluded). */
const CPU_MARGIN_MS = 500
const PLAIN_NODE_SERVER = join(dirname(fileURLToPath(import.meta.url)), 'plain-node-server.js')
/** What PlatformOptions.isolation takes to turn every isolation measure off. */
const ISOLATION_OFF = { switchUids: false, cgroups: false, permissionModel: false }

type TargetId = 'plain' | 'nginx-1' | 'nginx-auto' | 'direct' | 'gateway' | 'gateway-open'

interface Target {
  id: TargetId
  label: string
  url: string
  /** The Node process that runs the handler: the plain server or the instance. */
  serverPid: number
  /** nginx's master and workers, for the nginx targets. */
  proxyPids: number[]
  /** Served through a Roost gateway (a thread of this process). */
  viaGateway: boolean
}

interface Measurement {
  load: LoadResult
  cpu: CpuUsage | null
}

/** A CPU figure of one measurement, in % of one core; null where it does not apply. */
type CpuColumn = (m: Measurement, target: Target) => number | null

export const gatewayThroughput: Suite = {
  name: 'gateway-throughput',
  title: 'Gateway throughput: hello world through Roost vs. plain node:http and nginx in front of it',
  run
}

// Children still running, killed if this process leaves without stopping them.
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const child of children) child.kill('SIGKILL') })

async function run (options: SuiteOptions): Promise<SuiteReport> {
  const { log } = options
  const nginxBinary = findNginx()
  const dirs: string[] = []
  const temp = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    dirs.push(dir)
    return dir
  }
  const proxies: Nginx[] = []
  const platforms: Platform[] = []
  const started: ChildProcess[] = []
  try {
    const background = cpuSamplingAvailable ? await machineBusy(1000) : null
    if (background !== null) log(`background load before the run: ${background.toFixed(0)}% of ${cpus().length * 100}%`)

    log('starting plain node:http and the runtime\'s HTTP mode on the function\'s bundle')
    const plain = await startChild(started, [PLAIN_NODE_SERVER, '0', BODY], /^listening (\d+)$/m)
    const bundleDir = temp('roost-bench-bundle-')
    const built = await bundleInline({ code: SOURCE, loader: 'ts', name: FUNCTION_NAME })
    const bundlePath = join(bundleDir, `${FUNCTION_NAME}.mjs`)
    chmodSync(bundleDir, 0o755)
    writeFileSync(bundlePath, built.code, { mode: 0o644 })
    const direct = await startChild(started, [RUNTIME_SERVE_ENTRY, '--bundle', bundlePath, '--port', '0'], /^listening on http:\/\/[^:]+:(\d+)$/m)

    log('starting two platforms: default isolation, and isolation off')
    const isolated = await Platform.start({ home: resolveHome({ ROOST_HOME: temp('roost-bench-home-') }), gatewayPort: 0, apiPort: 0, logLevel: 'warn' })
    platforms.push(isolated)
    const open = await Platform.start({ home: resolveHome({ ROOST_HOME: temp('roost-bench-home-') }), gatewayPort: 0, apiPort: 0, logLevel: 'warn', isolation: ISOLATION_OFF })
    platforms.push(open)
    const isolation = { on: isolated.isolation().mode, off: open.isolation().mode }
    log(`isolation: ${isolation.on} against ${isolation.off}`)
    const instance = await deployHello(isolated)
    const openInstance = await deployHello(open)
    log(`instances ready: pid ${instance.pid} (isolated), pid ${openInstance.pid} (isolation off)`)

    const targets: Target[] = [
      { id: 'plain', label: 'plain node:http', url: plain.url, serverPid: plain.pid, proxyPids: [], viaGateway: false }
    ]
    let nginxNote: string
    if (nginxBinary === null) {
      nginxNote = 'nginx: not installed; the nginx rows are skipped'
      log(`${nginxNote} (set NGINX=/path/to/nginx to use one elsewhere)`)
    } else {
      nginxNote = `nginx ${nginxBinary.version}`
      for (const [id, workers] of [['nginx-1', 1], ['nginx-auto', 'auto']] as const) {
        const proxy = await startNginx(nginxBinary, { upstreamHost: '127.0.0.1', upstreamPort: plain.port, workers })
        proxies.push(proxy)
        const count = proxy.workerPids.length
        const label = workers === 1 ? 'nginx (1 worker) → plain node' : `nginx (auto, ${count} worker${count === 1 ? '' : 's'}) → plain node`
        targets.push({ id, label, url: proxy.url, serverPid: plain.pid, proxyPids: [proxy.pid, ...proxy.workerPids], viaGateway: false })
      }
    }
    targets.push(
      { id: 'direct', label: 'roost instance, direct', url: direct.url, serverPid: direct.pid, proxyPids: [], viaGateway: false },
      { id: 'gateway', label: 'roost gateway → instance', url: `${isolated.config.gateway}/fn/${FUNCTION_NAME}`, serverPid: instance.pid, proxyPids: [], viaGateway: true },
      { id: 'gateway-open', label: 'roost gateway → instance, isolation off', url: `${open.config.gateway}/fn/${FUNCTION_NAME}`, serverPid: openInstance.pid, proxyPids: [], viaGateway: true }
    )
    for (const target of targets) await expectHello(target.label, target.url)

    const results = new Map<TargetId, Measurement[]>(targets.map((t) => [t.id, []]))
    for (let round = 1; round <= options.runs; round++) {
      for (const target of targets) {
        log(`round ${round}/${options.runs}: ${target.label}: warm-up ${options.warmupSec} s (every response checked), then ${options.durationSec} s measured`)
        const warm = await runLoad(options.load, { url: target.url, connections: CONNECTIONS, threads: WRK_THREADS, durationSec: options.warmupSec, check: true, expectBody: BODY })
        mustBeClean(target, 'warm-up', warm)
        if (warm.checkedOk === null || warm.checkedOk === 0) throw new BenchFailure(`${target.label}: the warm-up saw no 200 response with body '${BODY}'`)
        const measurement = await measure(options, target)
        mustBeClean(target, `round ${round}`, measurement.load)
        log(`  ${formatRps(measurement.load.rps)} req/s, p50 ${formatMs(measurement.load.p50Ms)}, p99 ${formatMs(measurement.load.p99Ms)}`)
        results.get(target.id)?.push(measurement)
      }
    }
    for (const [platform, kept] of [[isolated, instance], [open, openInstance]] as const) {
      if (ticksOf(kept.pid) === null) throw new BenchFailure(`the instance (pid ${kept.pid}) is gone after the runs: the figures may mix instances`)
      const after = await readyInstances(platform)
      if (after.length !== 1 || after[0].pid !== kept.pid) {
        throw new BenchFailure(`expected the one instance (pid ${kept.pid}) to serve every run; after the runs the ready instances are ${JSON.stringify(after.map((i) => i.pid))}`)
      }
    }
    return report(options, targets, results, nginxNote, background, isolation)
  } finally {
    for (const proxy of proxies) await proxy.stop()
    for (const platform of platforms) await platform.stop()
    await Promise.all(started.map(stopChild))
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

interface Child { pid: number, port: number, url: string }

/** Starts a node server and waits for the line that gives its port. */
async function startChild (started: ChildProcess[], args: string[], listening: RegExp): Promise<Child> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  started.push(child)
  child.once('exit', () => children.delete(child))
  let out = ''
  let err = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchFailure(`${args.join(' ')} did not listen within 10 s: ${out}${err}`)), 10_000)
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = listening.exec(out)
      if (match !== null) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new BenchFailure(`${args.join(' ')} exited with ${String(code)} before it listened: ${out}${err}`))
    })
  })
  // Keeps reading, so that a full pipe never blocks the server.
  child.stdout?.removeAllListeners('data').resume()
  return { pid: child.pid as number, port, url: `http://127.0.0.1:${port}/` }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

interface InstanceItem {
  id: string
  function: string
  state: string
  pid: number | null
}

async function deployHello (platform: Platform): Promise<InstanceItem & { pid: number }> {
  const { api, token } = platform.config
  const manifest = {
    apiVersion: 'roost.dev/v1',
    kind: 'Function',
    metadata: { name: FUNCTION_NAME },
    spec: {
      source: { inline: SOURCE },
      // Exactly one instance, whose process the CPU figures follow.
      scale: { min: 1, max: 1 },
      concurrency: 1000
    }
  }
  const response = await fetch(`${api}/apis/roost.dev/v1/namespaces/default/functions/${FUNCTION_NAME}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ manifest })
  })
  const text = await response.text()
  if (response.status !== 201 && response.status !== 200) throw new BenchFailure(`deploying ${FUNCTION_NAME} answered ${response.status}: ${text}`)
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const ready = await readyInstances(platform)
    const found = ready[0]
    if (found !== undefined && found.pid !== null) return { ...found, pid: found.pid }
    if (Date.now() > deadline) throw new BenchFailure(`no ready instance of ${FUNCTION_NAME} within ${READY_TIMEOUT_MS / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function readyInstances (platform: Platform): Promise<InstanceItem[]> {
  const { api, token } = platform.config
  const response = await fetch(`${api}/apis/roost.dev/v1/instances`, { headers: { authorization: `Bearer ${token}` } })
  if (response.status !== 200) throw new BenchFailure(`GET /instances answered ${response.status}: ${await response.text()}`)
  const { items } = await response.json() as { items: InstanceItem[] }
  return items.filter((item) => item.function === FUNCTION_NAME && item.state === 'ready')
}

async function expectHello (label: string, url: string): Promise<void> {
  const response = await fetch(url)
  const text = await response.text()
  if (response.status !== 200 || text !== BODY) throw new BenchFailure(`${label} (${url}) answered ${response.status} '${text.slice(0, 200)}' instead of 200 '${BODY}'`)
}

function mustBeClean (target: Target, what: string, result: LoadResult): void {
  const errors = describeErrors(result.errors)
  if (errors !== null) throw new BenchFailure(`${target.label}, ${what}: not every response was a 200: ${errors} (of ${result.requests} requests)`)
  if (result.requests === 0) throw new BenchFailure(`${target.label}, ${what}: no request completed`)
}

async function measure (options: SuiteOptions, target: Target): Promise<Measurement> {
  const watched: Watched[] = [
    { key: 'server', pid: target.serverPid },
    { key: 'serverLoop', pid: target.serverPid, tid: target.serverPid },
    ...target.proxyPids.map((pid) => ({ key: 'nginx', pid }))
  ]
  const samples: { first?: CpuSnapshot, last?: CpuSnapshot } = {}
  const timers: NodeJS.Timeout[] = []
  const sampleWindowMs = options.durationSec * 1000 - 2 * CPU_MARGIN_MS
  const load = await runLoad(options.load, {
    url: target.url,
    connections: CONNECTIONS,
    threads: WRK_THREADS,
    durationSec: options.durationSec,
    onStart: (pid) => {
      if (!cpuSamplingAvailable || sampleWindowMs < 500) return
      const all = pid === null ? watched : [...watched, { key: 'loadgen', pid }]
      timers.push(setTimeout(() => { samples.first = snapshot(all) }, CPU_MARGIN_MS))
      timers.push(setTimeout(() => { samples.last = snapshot(all) }, CPU_MARGIN_MS + sampleWindowMs))
    }
  })
  for (const timer of timers) clearTimeout(timer)
  const cpu = samples.first !== undefined && samples.last !== undefined ? usageBetween(samples.first, samples.last) : null
  return { load, cpu }
}

// --- the report ---------------------------------------------------------------

const cpuColumns: Array<{ header: string, value: CpuColumn }> = [
  { header: 'load generator', value: (m) => m.cpu === null ? null : (m.load.tool === 'wrk' ? m.cpu.watched.loadgen ?? null : m.cpu.ownMainThread) },
  { header: 'node server', value: (m) => m.cpu?.watched.server ?? null },
  { header: 'server loop', value: (m) => m.cpu?.watched.serverLoop ?? null },
  { header: 'gateway thread', value: (m, t) => t.viaGateway ? m.cpu?.busiestOwnThread ?? null : null },
  {
    header: 'platform, rest',
    value: (m, t) => {
      if (m.cpu === null) return null
      const main = m.load.tool === 'wrk' ? m.cpu.ownMainThread : 0
      return main + m.cpu.ownOtherThreads + (t.viaGateway ? 0 : m.cpu.busiestOwnThread)
    }
  },
  { header: 'nginx', value: (m, t) => t.proxyPids.length === 0 ? null : m.cpu?.watched.nginx ?? null }
]
// The processes that serve one request of the path (load generator, proxy, node server): what the path costs.
cpuColumns.push({
  header: 'path total',
  value: (m, t) => {
    if (m.cpu === null) return null
    let listed = 0
    for (const c of cpuColumns) {
      if (c.header === 'machine' || c.header === 'server loop' || c.header === 'path total' || c.header === 'other') continue
      listed += c.value(m, t) ?? 0
    }
    return listed
  }
})
// What the machine did besides: other users of this shared machine, kernel work charged to no process.
cpuColumns.push({
  header: 'other',
  value: (m, t) => {
    const machine = m.cpu?.machine
    const path = column('path total')(m, t)
    return machine === undefined || path === null ? null : Math.max(0, machine - path)
  }
})
cpuColumns.push({ header: 'machine', value: (m) => m.cpu?.machine ?? null })

function medianOf (measurements: Measurement[], pick: (m: Measurement) => number | null): number {
  const values = measurements.map(pick).filter((v): v is number => v !== null && Number.isFinite(v))
  return values.length === 0 ? Number.NaN : median(values)
}

/** CPU µs per request of a column: the per-round share of a core over the round's rate, median of rounds. */
function cpuMicrosPerRequest (measurements: Measurement[], target: Target, column: CpuColumn): number {
  return medianOf(measurements, (m) => {
    const percent = column(m, target)
    return percent === null ? null : percent / 100 / m.load.rps * 1e6
  })
}

function column (header: string): CpuColumn {
  const found = cpuColumns.find((c) => c.header === header)
  if (found === undefined) throw new Error(`no CPU column ${header}`)
  return found.value
}

interface Isolation { on: string, off: string }

function report (options: SuiteOptions, targets: Target[], results: Map<TargetId, Measurement[]>, nginxNote: string, background: number | null, isolation: Isolation): SuiteReport {
  const of = (id: TargetId): Measurement[] => results.get(id) ?? []
  const summary = (id: TargetId): { rps: number, p50: number, p99: number } => ({
    rps: medianOf(of(id), (m) => m.load.rps),
    p50: medianOf(of(id), (m) => m.load.p50Ms),
    p99: medianOf(of(id), (m) => m.load.p99Ms)
  })
  const has = (id: TargetId): boolean => targets.some((t) => t.id === id)
  const target = (id: TargetId): Target => targets.find((t) => t.id === id) as Target
  const perRound = (a: TargetId, b: TargetId, f: (x: Measurement, y: Measurement) => number): number[] =>
    of(a).map((m, i) => f(m, of(b)[i] ?? m))

  // --- targets
  const targetRows = targets.map((t) => {
    const s = summary(t.id)
    return [t.label, formatRps(s.rps), formatMs(s.p50), formatMs(s.p99), of(t.id).map((m) => formatRps(m.load.rps)).join(' / ')]
  })
  const targetHeader = ['target', 'req/s', 'p50', 'p99', 'req/s of each round']
  if (!has('nginx-1')) {
    targetRows.splice(1, 0, ['nginx (1 worker) → plain node', 'skipped', '', '', 'nginx is not installed'], ['nginx (auto) → plain node', 'skipped', '', '', 'nginx is not installed'])
  }

  // --- ratios: the headline ones first, each with its aim
  const spread = (values: number[], format: (v: number) => string): string => values.map(format).join(' / ')
  const plain = (v: number): string => v.toFixed(2)
  const signedMs = (v: number): string => `${v >= 0 ? '+' : '−'}${formatMs(Math.abs(v))}`
  const rpsRatio = (a: TargetId, b: TargetId, label: string, aim: string): string[] =>
    [label, formatRatio(summary(a).rps / summary(b).rps), aim, spread(perRound(a, b, (x, y) => x.load.rps / y.load.rps), plain)]
  const ratioRows: string[][] = []
  if (has('nginx-1')) ratioRows.push(rpsRatio('gateway', 'nginx-1', '**gateway / (nginx-1 → node)**, req/s', '≥ 1.0'))
  else ratioRows.push(['**gateway / (nginx → node)**, req/s', 'skipped', '≥ 1.0', 'nginx is not installed'])
  ratioRows.push(rpsRatio('direct', 'plain', '**instance direct / plain node**, req/s', '≥ 0.8'))
  ratioRows.push(rpsRatio('gateway', 'gateway-open', '**isolated / isolation off** (gateway → instance), req/s', '≥ 0.95'))
  if (has('nginx-auto')) ratioRows.push(rpsRatio('gateway', 'nginx-auto', 'gateway / (nginx-auto → node), req/s', ''))
  ratioRows.push(rpsRatio('gateway', 'direct', 'gateway → instance / instance direct, req/s', ''))
  if (has('nginx-1')) {
    ratioRows.push(rpsRatio('nginx-1', 'plain', '(nginx-1 → node) / plain node, req/s', ''))
    ratioRows.push(['gateway p50 − (nginx-1 → node) p50', signedMs(summary('gateway').p50 - summary('nginx-1').p50), '', spread(perRound('gateway', 'nginx-1', (x, y) => x.load.p50Ms - y.load.p50Ms), signedMs)])
    ratioRows.push(['gateway / (nginx-1 → node), p99', formatRatio(summary('gateway').p99 / summary('nginx-1').p99), '', spread(perRound('gateway', 'nginx-1', (x, y) => x.load.p99Ms / y.load.p99Ms), plain)])
  }
  ratioRows.push(['gateway p50 − instance direct p50', signedMs(summary('gateway').p50 - summary('direct').p50), '', spread(perRound('gateway', 'direct', (x, y) => x.load.p50Ms - y.load.p50Ms), signedMs)])
  const ratioHeader = ['ratio', 'of medians', 'aim', 'each round']

  // --- CPU
  const cores = cpus().length
  const cpuAvailable = of('gateway').some((m) => m.cpu !== null)
  const cpuHeader = ['target', ...cpuColumns.map((c) => c.header)]
  const cpuRows = targets.map((t) => [t.label, ...cpuColumns.map((c) => {
    const percent = medianOf(of(t.id), (m) => c.value(m, t))
    if (!Number.isFinite(percent)) return '-'
    return `${percent.toFixed(0)}% (${cpuMicrosPerRequest(of(t.id), t, c.value).toFixed(1)} µs)`
  })])
  const us = (id: TargetId, header: string): number => has(id) ? cpuMicrosPerRequest(of(id), target(id), column(header)) : Number.NaN
  const n1 = (v: number): string => Number.isFinite(v) ? `${v.toFixed(1)} µs` : '-'
  const perRequestHeader = ['CPU per request', 'Roost', 'baseline', 'Roost / baseline']
  const perRequestRow = (label: string, roost: number, baseline: number): string[] => [label, n1(roost), n1(baseline), formatRatio(roost / baseline)]
  const perRequestRows: string[][] = []
  if (has('nginx-1')) {
    perRequestRows.push(perRequestRow('proxy: gateway thread / nginx 1 worker (master + worker)', us('gateway', 'gateway thread'), us('nginx-1', 'nginx')))
    perRequestRows.push(perRequestRow('proxy: gateway thread / nginx auto (master + workers)', us('gateway', 'gateway thread'), us('nginx-auto', 'nginx')))
  }
  perRequestRows.push(perRequestRow('server: instance behind the gateway / plain node behind nginx-1', us('gateway', 'node server'), us('nginx-1', 'node server')))
  perRequestRows.push(perRequestRow('server: instance direct / plain node direct', us('direct', 'node server'), us('plain', 'node server')))
  perRequestRows.push(perRequestRow('path: gateway → instance / nginx-1 → node', us('gateway', 'path total'), us('nginx-1', 'path total')))
  perRequestRows.push(perRequestRow('isolation: gateway → instance, on / off (path)', us('gateway', 'path total'), us('gateway-open', 'path total')))

  const machine = `${cores} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform} ${process.arch}, Node ${process.version}`
  const method = `${options.load.description}${options.load.tool === 'wrk' ? `, -t${WRK_THREADS} -c${CONNECTIONS} --latency` : `, ${CONNECTIONS} connections`}; ` +
    `per target ${options.warmupSec} s warm-up (every response checked: status 200, body '${BODY}') then ${options.durationSec} s measured; ` +
    `round-robin ${targets.map((t) => t.id).join(' → ')}, ${options.runs} round${options.runs === 1 ? '' : 's'}; median per target and figure`
  const loadWarning = options.load.tool === 'node'
    ? 'Load generator: wrk is not installed, so the in-process undici generator was used; its figures are not comparable with wrk\'s.'
    : null
  const bounds = boundsParagraph(targets, of, cores, cpuAvailable)
  const backgroundNote = background === null
    ? 'Background load: not measured (no /proc).'
    : `Background load: ${background.toFixed(0)}% of ${cores * 100}% in the second before the platforms started` +
      (background > 25 ? ' — the machine was busy with other work, so the figures are noisier than usual (see the "other" CPU column).' : '.')
  const isolationNote = `Isolation: \`${isolation.on}\` (the default here) against \`${isolation.off}\` (\`isolation: { switchUids: false, cgroups: false, permissionModel: false }\`)`

  const cpuNote = `% of one core (${cores} cores = ${cores * 100}%), averaged over each measured run without its first and last ${CPU_MARGIN_MS} ms, median of rounds; ` +
    'in brackets, CPU µs per request. "node server" is the process that runs the handler (the plain server or the instance), "server loop" its main thread (its event loop), ' +
    '"gateway thread" the busiest thread of the bench process besides its main thread (the platforms run in it), ' +
    '"path total" the columns before it except the loop (what serving the path costs), "other" the rest of the machine (other users of this shared machine, kernel work charged to no process), "machine" all of it.'

  const text = [
    `${gatewayThroughput.title}`,
    `machine: ${machine}`,
    `method:  ${method}`,
    `${nginxNote}`,
    isolationNote,
    backgroundNote,
    ...(loadWarning === null ? [] : [`!! ${loadWarning}`]),
    '',
    textTable(targetHeader, targetRows),
    '',
    textTable(ratioHeader, ratioRows.map((r) => r.map((cell) => cell.replaceAll('**', '')))),
    '',
    ...(cpuAvailable ? [textTable(perRequestHeader, perRequestRows), ''] : []),
    cpuAvailable ? `CPU: ${cpuNote}` : 'CPU: not sampled (no /proc on this system)',
    ...(cpuAvailable ? [textTable(cpuHeader, cpuRows)] : []),
    '',
    `What bounds it: ${bounds}`
  ].join('\n')

  const markdown = [
    'A hello-world function (`new Response(\'hello world\')`, one instance, 32 connections) through the gateway (`/fn/hello`), ' +
    'against what a user would run instead: a plain `node:http` server with the same handler logic (`bench/plain-node-server.ts`), called directly and behind nginx ' +
    'with upstream keep-alive. The Roost runtime\'s HTTP mode (`src/runtime/serve.ts`) serving the function\'s bundle is called directly too, and a second platform ' +
    'with isolation off gives isolation\'s cost. The aims: gateway ≥ 1.0× nginx → node, instance direct ≥ 0.8× plain node, isolated ≥ 0.95× isolation off.',
    '',
    `- Command: \`${options.command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine}; ${nginxNote}`,
    `- Method: ${method}.`,
    '- nginx: `worker_processes 1` (one worker, as the gateway is one thread) and `worker_processes auto`; `upstream { keepalive 64; }`, ' +
    '`proxy_http_version 1.1`, `proxy_set_header Connection ""`, `access_log off`, `keepalive_requests 1000000` (see `bench/nginx.ts`).',
    `- ${isolationNote}.`,
    `- ${backgroundNote}`,
    ...(loadWarning === null ? [] : [`- **${loadWarning}**`]),
    '',
    markdownTable(targetHeader, targetRows),
    '',
    markdownTable(ratioHeader, ratioRows),
    '',
    ...(cpuAvailable
      ? [markdownTable(perRequestHeader, perRequestRows), '', `CPU: ${cpuNote}`, '', markdownTable(cpuHeader, cpuRows), '']
      : ['CPU: not sampled (no /proc on this system).', '']),
    '### What bounds it',
    '',
    bounds,
    ''
  ].join('\n')
  return { text, markdown }
}

/** Said from the CPU figures of this run, so that it stays true when the figures change. */
function boundsParagraph (targets: Target[], of: (id: TargetId) => Measurement[], cores: number, cpuAvailable: boolean): string {
  if (!cpuAvailable) return 'CPU use was not sampled on this system, so the bench cannot say which process bounds the throughput.'
  const has = (id: TargetId): boolean => targets.some((t) => t.id === id)
  const target = (id: TargetId): Target => targets.find((t) => t.id === id) as Target
  const pct = (id: TargetId, header: string): number => medianOf(of(id), (m) => column(header)(m, target(id)))
  const us = (id: TargetId, header: string): number => cpuMicrosPerRequest(of(id), target(id), column(header))
  const rps = (id: TargetId): number => medianOf(of(id), (m) => m.load.rps)
  const n0 = (v: number): string => v.toFixed(0)
  const n1 = (v: number): string => v.toFixed(1)
  const busy = (id: TargetId): string => `${n0(pct(id, 'machine'))}%`
  const sentences: string[] = []
  sentences.push(
    `${cores} cores are shared by the load generator, the proxy (gateway or nginx, if any) and the Node process that runs the handler. ` +
    `During the gateway runs the machine was ${busy('gateway')} busy of ${cores * 100}%: load generator ${n0(pct('gateway', 'load generator'))}%, ` +
    `gateway thread ${n0(pct('gateway', 'gateway thread'))}%, instance ${n0(pct('gateway', 'node server'))}% (its event loop ${n0(pct('gateway', 'server loop'))}%), ` +
    `the rest of the platform process ${n0(pct('gateway', 'platform, rest'))}%, ` +
    `and ${n0(pct('gateway', 'other'))}% went to other processes of this shared machine and kernel work charged to none of these` +
    (has('nginx-1') ? `; during the nginx-1 runs it was ${busy('nginx-1')} busy, nginx ${n0(pct('nginx-1', 'nginx'))}% and plain node ${n0(pct('nginx-1', 'node server'))}% (its loop ${n0(pct('nginx-1', 'server loop'))}%).` : '.')
  )
  // Direct: no proxy, so the server's loop or the cores bound it.
  const directLoops = [
    { name: 'plain node', loop: pct('plain', 'server loop'), us: us('plain', 'node server') },
    { name: 'the Roost instance', loop: pct('direct', 'server loop'), us: us('direct', 'node server') }
  ]
  sentences.push(`Called directly, ${directLoops.map((d) => `${d.name}'s event loop is at ${n0(d.loop)}% of a core (${n1(d.us)} µs of its process per request)`).join(' and ')}` +
    (directLoops.every((d) => d.loop >= 90)
      ? ': both are bound by their one JS thread, so instance direct / plain node is the ratio of their CPU per request.'
      : '; where a loop is below 90% the cores, shared with wrk, bound it rather than the thread.'))
  const threads = [
    { name: 'the instance\'s event loop', value: pct('gateway', 'server loop') },
    { name: 'the gateway thread', value: pct('gateway', 'gateway thread') }
  ].sort((a, b) => b.value - a.value)
  sentences.push(`Through the gateway the busiest thread is ${threads[0].name} (${n0(threads[0].value)}% of a core), then ${threads[1].name} (${n0(threads[1].value)}%)` +
    (threads[0].value >= 90
      ? ': it is at its single-thread limit.'
      : '; neither is pinned at 100%: with more runnable threads than cores, each waits for a core and for the other processes\' hand-offs, so the bound is the cores, not one thread.'))
  const paths = targets.map((t) => `${t.id} ${n1(us(t.id, 'path total'))} µs`)
  sentences.push(
    (pct('gateway', 'machine') >= 0.85 * cores * 100 ? 'The cores are (nearly) saturated, so each path\'s throughput follows the CPU its processes spend per request' : 'CPU its processes spend per request') +
    ` (load generator + proxy + node server): ${paths.join(', ')}.`
  )
  if (has('nginx-1')) {
    const predicted = us('nginx-1', 'path total') / us('gateway', 'path total')
    sentences.push(`By that measure alone the gateway would reach ${predicted.toFixed(2)}× nginx-1 → node's throughput; it reached ${(rps('gateway') / rps('nginx-1')).toFixed(2)}×.`)
    sentences.push(
      `Per request the gateway thread spends ${n1(us('gateway', 'gateway thread'))} µs and nginx with one worker ${n1(us('nginx-1', 'nginx'))} µs (master included); ` +
      `behind them the instance spends ${n1(us('gateway', 'node server'))} µs (over the framed socket) and plain node ${n1(us('nginx-1', 'node server'))} µs (HTTP/1.1 from nginx).`
    )
  }
  const isolationDelta = us('gateway', 'path total') - us('gateway-open', 'path total')
  sentences.push(`With isolation off the gateway path costs ${n1(us('gateway-open', 'path total'))} µs per request (${isolationDelta >= 0 ? '+' : '−'}${n1(Math.abs(isolationDelta))} µs with it on) and the isolated path served ${(rps('gateway') / rps('gateway-open')).toFixed(2)}× as many requests. ` +
    'Isolation is set up when the process starts (uid, cgroup limits, permission flags); per request what it changes is the CPU weight of the instances\' cgroup, as much as one of the machine\'s tasks (src/isolation/cgroups.ts), which matters only when other work contends for the cores: ' +
    `the isolated instance got ${n0(pct('gateway', 'node server'))}% of a core against ${n0(pct('gateway-open', 'node server'))}% with isolation off, while the rest of the machine took ${n0(pct('gateway', 'other'))}% and ${n0(pct('gateway-open', 'other'))}%` +
    (pct('gateway', 'node server') < 0.8 * pct('gateway-open', 'node server') && pct('gateway', 'other') > pct('gateway-open', 'other') + 20
      ? '. The other work on the machine took the cores that the instance\'s lower weight left it, and the gateway waited on the instance: that is isolation\'s cost on a contended machine (or a burst of other work in that run; more rounds tell them apart), not a cost per request on a quiet one.'
      : '.'))
  return sentences.join(' ')
}
