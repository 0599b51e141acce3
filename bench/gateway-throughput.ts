// The gateway's cost: a hello-world function called through the gateway,
// against the same instance called directly (the physical limit) and against
// nginx proxying to it with upstream keep-alive (what a user would put there
// instead). All targets are measured in the same run, interleaved, so that the
// noise of a shared machine hits them alike; the figures that matter are the
// ratios.
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Platform } from '../src/platform/index.js'
import { resolveHome } from '../src/home/index.js'
import { cpuSamplingAvailable, machineBusy, snapshot, ticksOf, usageBetween, type CpuSnapshot, type CpuUsage, type Watched } from './cpu.js'
import { describeErrors, runLoad, type LoadResult } from './load.js'
import { findNginx, startNginx, type Nginx } from './nginx.js'
import { BenchFailure, formatMs, formatRatio, formatRps, markdownTable, median, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

const CONNECTIONS = 32
const WRK_THREADS = 2
const BODY = 'hello world'
const FUNCTION_NAME = 'hello'
const READY_TIMEOUT_MS = 60_000
/** CPU is sampled from this long after the load starts until this long before it ends (connects and teardown excluded). */
const CPU_MARGIN_MS = 500

type TargetId = 'direct' | 'gateway' | 'nginx-1' | 'nginx-auto'

interface Target {
  id: TargetId
  label: string
  url: string
  /** Processes that serve this target besides the instance (nginx's master and workers). */
  proxyPids: number[]
}

interface Measurement {
  load: LoadResult
  cpu: CpuUsage | null
}

/** A CPU figure of one measurement, in % of one core; null where it does not apply. */
type CpuColumn = (m: Measurement, target: Target) => number | null

export const gatewayThroughput: Suite = {
  name: 'gateway-throughput',
  title: 'Gateway throughput: hello world through the gateway vs. direct vs. nginx',
  run
}

async function run (options: SuiteOptions): Promise<SuiteReport> {
  const { log } = options
  const nginxBinary = findNginx()
  const root = mkdtempSync(join(tmpdir(), 'roost-bench-home-'))
  const proxies: Nginx[] = []
  let platform: Platform | null = null
  try {
    const background = cpuSamplingAvailable ? await machineBusy(1000) : null
    if (background !== null) log(`background load before the run: ${background.toFixed(0)}% of ${cpus().length * 100}%`)
    log('starting the platform')
    platform = await Platform.start({ home: resolveHome({ ROOST_HOME: root }), gatewayPort: 0, apiPort: 0, logLevel: 'warn' })
    const { api, gateway, token } = platform.config
    const instance = await deployHello(api, token)
    log(`instance ${instance.id} ready: pid ${instance.pid}, port ${instance.port}`)
    const directUrl = `http://127.0.0.1:${instance.port}/`
    const gatewayUrl = `${gateway}/fn/${FUNCTION_NAME}`
    await expectHello('direct', directUrl)
    await expectHello('gateway', gatewayUrl)

    const targets: Target[] = [
      { id: 'direct', label: 'direct (instance)', url: directUrl, proxyPids: [] },
      { id: 'gateway', label: 'gateway', url: gatewayUrl, proxyPids: [] }
    ]
    let nginxNote: string
    if (nginxBinary === null) {
      nginxNote = 'nginx: not installed; the nginx rows are skipped'
      log(`${nginxNote} (set NGINX=/path/to/nginx to use one elsewhere)`)
    } else {
      nginxNote = `nginx ${nginxBinary.version}`
      for (const [id, workers] of [['nginx-1', 1], ['nginx-auto', 'auto']] as const) {
        const proxy = await startNginx(nginxBinary, { upstreamHost: '127.0.0.1', upstreamPort: instance.port, workers })
        proxies.push(proxy)
        await expectHello(id, proxy.url)
        const count = proxy.workerPids.length
        const label = workers === 1 ? 'nginx, 1 worker' : `nginx, auto (${count} worker${count === 1 ? '' : 's'})`
        targets.push({ id, label, url: proxy.url, proxyPids: [proxy.pid, ...proxy.workerPids] })
      }
    }

    const results = new Map<TargetId, Measurement[]>(targets.map((t) => [t.id, []]))
    for (let round = 1; round <= options.runs; round++) {
      for (const target of targets) {
        log(`round ${round}/${options.runs}: ${target.label}: warm-up ${options.warmupSec} s (every response checked), then ${options.durationSec} s measured`)
        const warm = await runLoad(options.load, { url: target.url, connections: CONNECTIONS, threads: WRK_THREADS, durationSec: options.warmupSec, check: true, expectBody: BODY })
        mustBeClean(target, 'warm-up', warm)
        if (warm.checkedOk === null || warm.checkedOk === 0) throw new BenchFailure(`${target.label}: the warm-up saw no 200 response with body '${BODY}'`)
        const measurement = await measure(options, target, instance.pid)
        mustBeClean(target, `round ${round}`, measurement.load)
        log(`  ${formatRps(measurement.load.rps)} req/s, p50 ${formatMs(measurement.load.p50Ms)}, p99 ${formatMs(measurement.load.p99Ms)}`)
        results.get(target.id)?.push(measurement)
      }
    }
    if (ticksOf(instance.pid) === null) throw new BenchFailure(`the instance (pid ${instance.pid}) is gone after the runs: the figures may mix instances`)
    const instancesAfter = await readyInstances(api, token)
    if (instancesAfter.length !== 1 || instancesAfter[0].pid !== instance.pid) {
      throw new BenchFailure(`expected the one instance (pid ${instance.pid}) to serve every run; after the runs the ready instances are ${JSON.stringify(instancesAfter.map((i) => i.pid))}`)
    }
    return report(options, targets, results, nginxNote, background)
  } finally {
    for (const proxy of proxies) await proxy.stop()
    if (platform !== null) await platform.stop()
    rmSync(root, { recursive: true, force: true })
  }
}

interface InstanceItem {
  id: string
  function: string
  state: string
  pid: number | null
  port: number
}

async function deployHello (api: string, token: string): Promise<InstanceItem & { pid: number }> {
  const manifest = {
    apiVersion: 'roost.dev/v1',
    kind: 'Function',
    metadata: { name: FUNCTION_NAME },
    spec: {
      source: { inline: `export default () => new Response('${BODY}')` },
      // Exactly one instance: the direct and nginx targets reach that one too.
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
    const ready = await readyInstances(api, token)
    const found = ready[0]
    if (found !== undefined && found.pid !== null) return { ...found, pid: found.pid }
    if (Date.now() > deadline) throw new BenchFailure(`no ready instance of ${FUNCTION_NAME} within ${READY_TIMEOUT_MS / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function readyInstances (api: string, token: string): Promise<InstanceItem[]> {
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

async function measure (options: SuiteOptions, target: Target, instancePid: number): Promise<Measurement> {
  const watched: Watched[] = [
    { key: 'instance', pid: instancePid },
    { key: 'instanceLoop', pid: instancePid, tid: instancePid },
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
  { header: 'instance', value: (m) => m.cpu?.watched.instance ?? null },
  { header: 'instance loop', value: (m) => m.cpu?.watched.instanceLoop ?? null },
  { header: 'gateway thread', value: (m, t) => t.id === 'gateway' ? m.cpu?.busiestOwnThread ?? null : null },
  {
    header: 'platform, rest',
    value: (m, t) => {
      if (m.cpu === null) return null
      const main = m.load.tool === 'wrk' ? m.cpu.ownMainThread : 0
      return main + m.cpu.ownOtherThreads + (t.id === 'gateway' ? 0 : m.cpu.busiestOwnThread)
    }
  },
  { header: 'nginx', value: (m, t) => t.proxyPids.length === 0 ? null : m.cpu?.watched.nginx ?? null }
]
// The processes that serve one request of the path (load generator, proxy, instance): what the path costs.
cpuColumns.push({
  header: 'path total',
  value: (m, t) => {
    if (m.cpu === null) return null
    let listed = 0
    for (const c of cpuColumns) {
      if (c.header === 'machine' || c.header === 'instance loop' || c.header === 'path total' || c.header === 'other') continue
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

function report (options: SuiteOptions, targets: Target[], results: Map<TargetId, Measurement[]>, nginxNote: string, background: number | null): SuiteReport {
  const of = (id: TargetId): Measurement[] => results.get(id) ?? []
  const summary = (id: TargetId): { rps: number, p50: number, p99: number } => ({
    rps: medianOf(of(id), (m) => m.load.rps),
    p50: medianOf(of(id), (m) => m.load.p50Ms),
    p99: medianOf(of(id), (m) => m.load.p99Ms)
  })
  const has = (id: TargetId): boolean => targets.some((t) => t.id === id)
  const perRound = (a: TargetId, b: TargetId, f: (x: LoadResult, y: LoadResult) => number): number[] =>
    of(a).map((m, i) => f(m.load, of(b)[i]?.load ?? m.load))

  // --- targets
  const targetRows = targets.map((t) => {
    const s = summary(t.id)
    return [t.label, formatRps(s.rps), formatMs(s.p50), formatMs(s.p99), of(t.id).map((m) => formatRps(m.load.rps)).join(' / ')]
  })
  const targetHeader = ['target', 'req/s', 'p50', 'p99', 'req/s of each round']
  if (!has('nginx-1')) {
    targetRows.push(['nginx, 1 worker', 'skipped', '', '', 'nginx is not installed'])
    targetRows.push(['nginx, auto', 'skipped', '', '', 'nginx is not installed'])
  }

  // --- ratios
  const gw = summary('gateway')
  const direct = summary('direct')
  const ratioRows: string[][] = []
  const spread = (values: number[], format: (v: number) => string): string => values.map(format).join(' / ')
  const plain = (v: number): string => v.toFixed(2)
  const signedMs = (v: number): string => `${v >= 0 ? '+' : '−'}${formatMs(Math.abs(v))}`
  ratioRows.push(['gateway / direct, req/s', formatRatio(gw.rps / direct.rps), spread(perRound('gateway', 'direct', (x, y) => x.rps / y.rps), plain)])
  for (const id of ['nginx-1', 'nginx-auto'] as const) {
    if (!has(id)) continue
    ratioRows.push([`gateway / ${id}, req/s`, formatRatio(gw.rps / summary(id).rps), spread(perRound('gateway', id, (x, y) => x.rps / y.rps), plain)])
  }
  ratioRows.push(['gateway p50 − direct p50 (added latency)', signedMs(gw.p50 - direct.p50), spread(perRound('gateway', 'direct', (x, y) => x.p50Ms - y.p50Ms), signedMs)])
  for (const id of ['nginx-1', 'nginx-auto'] as const) {
    if (!has(id)) continue
    ratioRows.push([`gateway / ${id}, p99`, formatRatio(gw.p99 / summary(id).p99), spread(perRound('gateway', id, (x, y) => x.p99Ms / y.p99Ms), plain)])
  }
  if (!has('nginx-1')) ratioRows.push(['gateway / nginx', 'skipped', 'nginx is not installed'])
  const ratioHeader = ['ratio', 'of medians', 'each round']

  // --- CPU
  const cores = cpus().length
  const cpuAvailable = of('gateway').some((m) => m.cpu !== null)
  const cpuHeader = ['target', ...cpuColumns.map((c) => c.header)]
  const cpuRows = targets.map((t) => [t.label, ...cpuColumns.map((c) => {
    const percent = medianOf(of(t.id), (m) => c.value(m, t))
    if (!Number.isFinite(percent)) return '-'
    return `${percent.toFixed(0)}% (${cpuMicrosPerRequest(of(t.id), t, c.value).toFixed(1)} µs)`
  })])

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
    : `Background load: ${background.toFixed(0)}% of ${cores * 100}% in the second before the platform started` +
      (background > 25 ? ' — the machine was busy with other work, so the figures are noisier than usual (see the "other" CPU column).' : '.')

  const cpuNote = `% of one core (${cores} cores = ${cores * 100}%), averaged over each measured run without its first and last ${CPU_MARGIN_MS} ms, median of rounds; ` +
    'in brackets, CPU µs per request. "instance loop" is the instance\'s main thread (its event loop), "gateway thread" the busiest thread of the platform process besides its main thread, ' +
    '"path total" the columns before it (what serving the path costs), "other" the rest of the machine (other users of this shared machine, kernel work charged to no process), "machine" all of it.'

  const text = [
    `${gatewayThroughput.title}`,
    `machine: ${machine}`,
    `method:  ${method}`,
    `${nginxNote}`,
    backgroundNote,
    ...(loadWarning === null ? [] : [`!! ${loadWarning}`]),
    '',
    textTable(targetHeader, targetRows),
    '',
    textTable(ratioHeader, ratioRows),
    '',
    cpuAvailable ? `CPU: ${cpuNote}` : 'CPU: not sampled (no /proc on this system)',
    ...(cpuAvailable ? [textTable(cpuHeader, cpuRows)] : []),
    '',
    `What bounds it: ${bounds}`
  ].join('\n')

  const markdown = [
    'A hello-world function (`new Response(\'hello world\')`, one instance) called through the gateway (`/fn/hello`), ' +
    'against the same instance called directly (the physical limit) and against nginx proxying to it with upstream keep-alive ' +
    '(what a user would put there instead), 32 connections. The aim: the gateway at ≥ nginx\'s throughput in the same run.',
    '',
    `- Command: \`${options.command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine}; ${nginxNote}`,
    `- Method: ${method}.`,
    '- nginx: `worker_processes 1` (one worker, as the gateway is one thread) and `worker_processes auto`; `upstream { keepalive 64; }`, ' +
    '`proxy_http_version 1.1`, `proxy_set_header Connection ""`, `access_log off`, `keepalive_requests 1000000` (see `bench/nginx.ts`).',
    `- ${backgroundNote}`,
    ...(loadWarning === null ? [] : [`- **${loadWarning}**`]),
    '',
    markdownTable(targetHeader, targetRows),
    '',
    markdownTable(ratioHeader, ratioRows),
    '',
    ...(cpuAvailable ? [`CPU: ${cpuNote}`, '', markdownTable(cpuHeader, cpuRows), ''] : ['CPU: not sampled (no /proc on this system).', '']),
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
  const target = (id: TargetId): Target => targets.find((t) => t.id === id) as Target
  const pct = (id: TargetId, header: string): number => medianOf(of(id), (m) => column(header)(m, target(id)))
  const us = (id: TargetId, header: string): number => cpuMicrosPerRequest(of(id), target(id), column(header))
  const rps = (id: TargetId): number => medianOf(of(id), (m) => m.load.rps)
  const n0 = (v: number): string => v.toFixed(0)
  const n1 = (v: number): string => v.toFixed(1)
  const hasNginx = targets.some((t) => t.id === 'nginx-1')
  const machine = pct('gateway', 'machine')
  const sentences: string[] = []
  sentences.push(
    `${cores} cores are shared by the load generator, the proxy (gateway or nginx) and the instance. ` +
    `During the gateway runs the machine was ${n0(machine)}% busy of ${cores * 100}%: load generator ${n0(pct('gateway', 'load generator'))}%, ` +
    `gateway thread ${n0(pct('gateway', 'gateway thread'))}%, instance ${n0(pct('gateway', 'instance'))}% (its event loop ${n0(pct('gateway', 'instance loop'))}%), ` +
    `the rest of the platform process ${n0(pct('gateway', 'platform, rest'))}%, ` +
    `and ${n0(pct('gateway', 'other'))}% went to other processes of this shared machine and kernel work charged to none of these.`
  )
  const threads = [
    { name: 'the instance\'s event loop', value: pct('gateway', 'instance loop') },
    { name: 'the gateway thread', value: pct('gateway', 'gateway thread') }
  ].sort((a, b) => b.value - a.value)
  sentences.push(`The busiest thread on the gateway path is ${threads[0].name} (${n0(threads[0].value)}% of a core), then ${threads[1].name} (${n0(threads[1].value)}%)` +
    (threads[0].value >= 90
      ? ': it is at its single-thread limit.'
      : '; neither is pinned at 100%: with more runnable threads than cores, each waits for a core and for the other processes\' hand-offs, so the bound is the cores, not one thread.'))
  const paths = targets.map((t) => `${t.id} ${n1(us(t.id, 'path total'))} µs`)
  sentences.push(
    (machine >= 0.85 * cores * 100 ? 'The cores are (nearly) saturated, so each path\'s throughput follows the CPU its processes spend per request' : 'CPU its processes spend per request') +
    ` (load generator + proxy + instance): ${paths.join(', ')}.`
  )
  if (hasNginx) {
    const predicted = us('nginx-1', 'path total') / us('gateway', 'path total')
    sentences.push(`By that measure alone the gateway would reach ${predicted.toFixed(2)}× nginx-1's throughput; it reached ${(rps('gateway') / rps('nginx-1')).toFixed(2)}×.`)
  }
  sentences.push(
    `Per request the gateway thread spends ${n1(us('gateway', 'gateway thread'))} µs` +
    (hasNginx ? `, nginx with one worker ${n1(us('nginx-1', 'nginx'))} µs (master included)` : '') +
    `; the instance spends ${n1(us('gateway', 'instance'))} µs behind the gateway` +
    (hasNginx ? `, ${n1(us('nginx-1', 'instance'))} µs behind nginx` : '') +
    ` and ${n1(us('direct', 'instance'))} µs called directly.`
  )
  const directLoop = pct('direct', 'instance loop')
  if (directLoop >= 90) sentences.push(`Called directly, the instance's event loop is at its limit (${n0(directLoop)}%): the instance is the ceiling of every path on this machine.`)
  return sentences.join(' ')
}
