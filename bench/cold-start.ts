// Cold starts with real processes through the InstanceManager (no gateway):
// from `scale(key, 1)` to the instance's `ready`, and to its first response,
// with the warm pool (size 2) and with plain spawns (pool size 0), each with
// the default isolation and with isolation off, interleaved in one run with
// the floor of any fresh process: `node -e 0`, spawn to exit.
//
// A suite of `npm run bench` (`--suite cold-start`); run alone,
// `node dist/bench/cold-start.js [--runs N]` prints JSON.
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { bundleInline } from '../src/bundler/index.js'
import { InstanceManager, LocalProcessDriver, versionKey, type InstanceInfo, type VersionTarget } from '../src/instances/index.js'
import { FrameDecoder, FrameType, FrameWriter, MAX_DATA_PAYLOAD_BYTES } from '../src/wire/index.js'
import { formatMs, formatRatio, markdownTable, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

export interface Percentiles {
  p50: number
  p99: number
  min: number
  max: number
}

export interface SubjectResult {
  /** The driver's isolation mode, as `roost up` says it. */
  isolation: string
  /** `scale(key, 1)` to ready. */
  ready: Percentiles
  /** `scale(key, 1)` to the first response of the instance. */
  firstResponse: Percentiles
}

export interface ColdStartResult {
  /** Samples per figure. */
  runs: number
  /** `node -e 0`, spawn to exit: what any fresh node process costs at least. */
  nodeFloor: Percentiles
  /** The process taken from the warm pool (size 2), default isolation. */
  pooled: SubjectResult
  /** The same, isolation off. */
  pooledOpen: SubjectResult
  /** The process spawned for it (pool size 0), default isolation. */
  spawned: SubjectResult
  /** The same, isolation off. */
  spawnedOpen: SubjectResult
}

/** What LocalProcessDriver takes to turn every isolation measure off. */
const ISOLATION_OFF = { switchUids: false, cgroups: false, permissionModel: false }
/** The aim of issue 8 for the pooled cold start with isolation. */
const POOLED_P99_AIM_MS = 25
const POOL_SIZE = 2
const MEMORY_MIB = 128
const HANDLER = 'export default (req: Request) => new Response("hello " + new URL(req.url).pathname)'

export async function coldStartBench (options: { runs: number }): Promise<ColdStartResult> {
  const runs = Math.max(1, Math.floor(options.runs))
  const dir = mkdtempSync(join(tmpdir(), 'roost-cold-start-'))
  const built = await bundleInline({ code: HANDLER, loader: 'ts', name: 'hello' })
  const bundlePath = join(dir, `${built.hash}.mjs`)
  // Instances run as a namespace's uid: the bundle must be readable by it.
  chmodSync(dir, 0o755)
  writeFileSync(bundlePath, built.code, { mode: 0o644 })

  // Each driver its own home, so that their run dirs and cgroups do not meet.
  const home = (name: string): string => join(dir, name)
  const subjects = [
    new Subject(bundlePath, POOL_SIZE, new LocalProcessDriver({ home: home('pooled') }), 'pooled'),
    new Subject(bundlePath, POOL_SIZE, new LocalProcessDriver({ home: home('pooled-open'), ...ISOLATION_OFF }), 'pooledopen'),
    new Subject(bundlePath, 0, new LocalProcessDriver({ home: home('spawned') }), 'spawned'),
    new Subject(bundlePath, 0, new LocalProcessDriver({ home: home('spawned-open'), ...ISOLATION_OFF }), 'spawnedopen')
  ]
  const floor: number[] = []
  try {
    for (const subject of subjects) await subject.settle()
    // One round each that is not counted: the bench's own lazy parts (fetch).
    for (const subject of subjects) await subject.once()
    await nodeExit()
    for (let i = 0; i < runs; i++) {
      floor.push(await nodeExit())
      for (const subject of subjects) await subject.sample()
    }
  } finally {
    await Promise.all(subjects.map(async (subject) => await subject.manager.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
  const [pooled, pooledOpen, spawned, spawnedOpen] = subjects.map((s) => s.result())
  return { runs, nodeFloor: percentiles(floor), pooled, pooledOpen, spawned, spawnedOpen }
}

export const coldStart: Suite = {
  name: 'cold-start',
  title: 'Cold start: warm pool and plain spawn, isolation on and off',
  run: async (options) => {
    // --quick (a duration under the default 8 s) takes fewer samples.
    const runs = options.durationSec >= 8 ? 100 : 30
    options.log(`${runs} cold starts of each kind, interleaved: pooled, pooled isolation off, spawned, spawned isolation off, node -e 0`)
    return coldStartReport(options, await coldStartBench({ runs }))
  }
}

function coldStartReport (options: SuiteOptions, result: ColdStartResult): SuiteReport {
  const header = ['cold start (scale 0 → 1)', 'isolation', 'ready p50', 'ready p99', 'first response p50', 'first response p99', 'max']
  const row = (label: string, s: SubjectResult): string[] =>
    [label, s.isolation, formatMs(s.ready.p50), formatMs(s.ready.p99), formatMs(s.firstResponse.p50), formatMs(s.firstResponse.p99), formatMs(s.firstResponse.max)]
  const rows = [
    row('warm pool (2), isolation on', result.pooled),
    row('warm pool (2), isolation off', result.pooledOpen),
    row('plain spawn, isolation on', result.spawned),
    row('plain spawn, isolation off', result.spawnedOpen),
    ['floor: `node -e 0` spawn to exit', '-', formatMs(result.nodeFloor.p50), formatMs(result.nodeFloor.p99), '', '', formatMs(result.nodeFloor.max)]
  ]
  const ratioHeader = ['figure', 'value', 'aim']
  const aimMet = result.pooled.firstResponse.p99 <= POOLED_P99_AIM_MS ? 'met' : 'not met'
  const ratioRows = [
    ['**pooled first response p99, isolation on**', formatMs(result.pooled.firstResponse.p99), `≤ ${POOLED_P99_AIM_MS} ms (${aimMet})`],
    ['pooled first response, isolation on / off, p50', formatRatio(result.pooled.firstResponse.p50 / result.pooledOpen.firstResponse.p50), ''],
    ['pooled first response, isolation on / off, p99', formatRatio(result.pooled.firstResponse.p99 / result.pooledOpen.firstResponse.p99), ''],
    ['spawned first response, isolation on / off, p50', formatRatio(result.spawned.firstResponse.p50 / result.spawnedOpen.firstResponse.p50), ''],
    ['spawn p50 / pool p50 (first response, isolation on)', formatRatio(result.spawned.firstResponse.p50 / result.pooled.firstResponse.p50), '']
  ]
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform} ${process.arch}, Node ${process.version}`
  const method = `an InstanceManager per kind with a LocalProcessDriver (no gateway, no store), one version scaled 0 → 1 → 0 per sample; ` +
    `the time from \`scale(key, 1)\` to the instance's ready, and to the answer of one request sent on its data socket as the gateway sends it; ` +
    `${result.runs} samples per kind, interleaved pool on → pool off → spawn on → spawn off → \`node -e 0\`; isolation off is ` +
    '`{ switchUids: false, cgroups: false, permissionModel: false }`'
  const text = [
    coldStart.title, `machine: ${machine}`, `method:  ${method}`, '',
    textTable(header, rows), '', textTable(ratioHeader, ratioRows.map((r) => r.map((c) => c.replaceAll('**', ''))))
  ].join('\n')
  const markdown = [
    'Cold starts of one function, from the decision to start an instance to its first response, with the warm pool and with a plain spawn, each with the default isolation of this machine and with isolation off. The aim: pooled p99 with isolation ≤ 25 ms.',
    '',
    `- Command: \`${options.command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine}`,
    `- Method: ${method}.`,
    '',
    markdownTable(header, rows),
    '',
    markdownTable(ratioHeader, ratioRows),
    ''
  ].join('\n')
  return { text, markdown }
}

/** One manager with one version, scaled 0 → 1 → 0 per sample. */
class Subject {
  readonly manager: InstanceManager
  readonly ready: number[] = []
  readonly firstResponse: number[] = []
  private readonly target: VersionTarget
  private waiting: { started: (info: InstanceInfo) => void, failed: (err: Error) => void } | null = null

  constructor (bundlePath: string, private readonly poolSize: number, private readonly driver: LocalProcessDriver, name: string) {
    this.target = {
      key: versionKey('bench', name, 1),
      fn: { namespace: 'bench', name, version: 1 },
      bundlePath,
      env: {},
      timeoutMs: 5000,
      memoryMiB: MEMORY_MIB,
      replicas: 0
    }
    this.manager = new InstanceManager(driver, {
      onChange: () => {},
      onLogs: () => {},
      onEvent: () => {},
      onStartFailed: (key, reason) => this.waiting?.failed(new Error(`${key} failed to start: ${reason}`)),
      onStarted: (info) => this.waiting?.started(info)
    }, { warmPool: { size: poolSize }, drainDelayMs: 0 })
    this.manager.setTargets([this.target])
  }

  result (): SubjectResult {
    return { isolation: this.driver.isolation().mode, ready: percentiles(this.ready), firstResponse: percentiles(this.firstResponse) }
  }

  async sample (): Promise<void> {
    const [ready, firstResponse] = await this.once()
    this.ready.push(ready)
    this.firstResponse.push(firstResponse)
  }

  /** One cold start: scale to 1, time ready and the first response, scale to 0, let the pool refill. */
  async once (): Promise<[number, number]> {
    let readyAt = 0
    const started = new Promise<InstanceInfo>((resolve, reject) => {
      this.waiting = {
        started: (info) => {
          readyAt = performance.now()
          resolve(info)
        },
        failed: reject
      }
    })
    const begin = performance.now()
    this.manager.scale(this.target.key, 1)
    const info = await started
    const route = this.manager.routes().find((r) => r.id === info.id)
    if (route === undefined) throw new Error(`instance ${info.id} is ready without a socket`)
    const { status, body } = await callOnce(route.socketPath, route.secret, '/cold')
    const answeredAt = performance.now()
    if (body !== 'hello /cold') throw new Error(`unexpected answer: ${status} ${body}`)
    if (info.pooled !== this.poolSize > 0) throw new Error(`expected pooled ${String(this.poolSize > 0)}, got ${String(info.pooled)}`)
    this.waiting = null
    this.manager.scale(this.target.key, 0)
    await this.settle()
    return [readyAt - begin, answeredAt - begin]
  }

  /** No instance left, and the pool full again. */
  async settle (): Promise<void> {
    while (this.manager.list().length > 0 || this.manager.poolSize() < this.poolSize) {
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
}

async function nodeExit (): Promise<number> {
  const begin = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
    child.on('error', reject)
    child.on('exit', () => resolve())
  })
  return performance.now() - begin
}

function percentiles (values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
  return { p50: round(at(0.5)), p99: round(at(0.99)), min: round(sorted[0]), max: round(sorted[sorted.length - 1]) }
}

function round (value: number): number {
  return Math.round(value * 100) / 100
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' } } })
  const result = await coldStartBench({ runs: Number(values.runs) })
  console.log(JSON.stringify(result, null, 2))
}

/** One GET on an instance's data socket, as the gateway sends it (docs/internal-protocol.md): Hello, Request, then the answer's frames. */
async function callOnce (socketPath: string, secret: string, url: string): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    const writer = new FrameWriter(socket)
    let status = 0
    const chunks: Buffer[] = []
    const decoder = new FrameDecoder((type, _stream, payload) => {
      if (type === FrameType.Response) status = payload.readUInt16BE(0)
      if (type === FrameType.ResponseBody) chunks.push(Buffer.from(payload))
      if (type === FrameType.ResponseEnd || type === FrameType.Abort || type === FrameType.Refused) {
        socket.destroy()
        resolve({ status, body: Buffer.concat(chunks).toString() })
      }
    }, MAX_DATA_PAYLOAD_BYTES)
    socket.on('data', (chunk: Buffer) => decoder.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => reject(new Error('the instance closed the connection before answering')))
    writer.text(FrameType.Hello, 0, secret)
    writer.request(1, { flags: 0, deadline: Date.now() + 10_000, method: 'GET', url, requestId: 'cold-start', headers: ['host', 'bench'] })
  })
}
