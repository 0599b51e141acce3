// Cold starts with real processes through the InstanceManager (no gateway):
// from `scale(key, 1)` to the instance's `ready`, and to its first response,
// with the warm pool (size 2) and with plain spawns (pool size 0), interleaved
// in one run with the floor of any fresh process: `node -e 0`, spawn to exit.
//
// Run alone: `node dist/bench/cold-start.js [--runs N]` prints JSON.
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { bundleInline } from '../src/build/index.js'
import { InstanceManager, LocalProcessDriver, versionKey, type InstanceInfo, type VersionTarget } from '../src/instances/index.js'
import { FrameDecoder, FrameType, FrameWriter, MAX_DATA_PAYLOAD_BYTES } from '../src/wire/index.js'

export interface Percentiles {
  p50: number
  p99: number
  min: number
  max: number
}

export interface ColdStartResult {
  /** Samples per figure. */
  runs: number
  /** `node -e 0`, spawn to exit: what any fresh node process costs at least. */
  nodeFloor: Percentiles
  /** `scale(key, 1)` to ready, the process taken from the warm pool (size 2). */
  pooled: Percentiles
  /** `scale(key, 1)` to ready, the process spawned for it (pool size 0). */
  spawned: Percentiles
  /** `scale(key, 1)` to the first response of the instance, warm pool. */
  pooledFirstResponse: Percentiles
  /** `scale(key, 1)` to the first response of the instance, plain spawn. */
  spawnedFirstResponse: Percentiles
  /** spawned.p50 / pooled.p50 */
  readySpeedup: number
  /** spawnedFirstResponse.p50 / pooledFirstResponse.p50 */
  firstResponseSpeedup: number
}

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

  const pooled = new Subject(bundlePath, POOL_SIZE)
  const spawned = new Subject(bundlePath, 0)
  const floor: number[] = []
  try {
    await pooled.settle()
    // One round each that is not counted: the bench's own lazy parts (fetch).
    await pooled.once()
    await spawned.once()
    await nodeExit()
    for (let i = 0; i < runs; i++) {
      floor.push(await nodeExit())
      await pooled.sample()
      await spawned.sample()
    }
  } finally {
    await Promise.all([pooled.manager.stop(), spawned.manager.stop()])
    rmSync(dir, { recursive: true, force: true })
  }
  const result: ColdStartResult = {
    runs,
    nodeFloor: percentiles(floor),
    pooled: percentiles(pooled.ready),
    spawned: percentiles(spawned.ready),
    pooledFirstResponse: percentiles(pooled.firstResponse),
    spawnedFirstResponse: percentiles(spawned.firstResponse),
    readySpeedup: 0,
    firstResponseSpeedup: 0
  }
  result.readySpeedup = round(result.spawned.p50 / result.pooled.p50)
  result.firstResponseSpeedup = round(result.spawnedFirstResponse.p50 / result.pooledFirstResponse.p50)
  return result
}

/** One manager with one version, scaled 0 → 1 → 0 per sample. */
class Subject {
  readonly manager: InstanceManager
  readonly ready: number[] = []
  readonly firstResponse: number[] = []
  private readonly target: VersionTarget
  private waiting: { started: (info: InstanceInfo) => void, failed: (err: Error) => void } | null = null

  constructor (bundlePath: string, private readonly poolSize: number) {
    this.target = {
      key: versionKey('bench', `cold${poolSize}`, 1),
      fn: { namespace: 'bench', name: `cold${poolSize}`, version: 1 },
      bundlePath,
      env: {},
      timeoutMs: 5000,
      memoryMiB: MEMORY_MIB,
      replicas: 0
    }
    this.manager = new InstanceManager(new LocalProcessDriver(), {
      onChange: () => {},
      onLogs: () => {},
      onEvent: () => {},
      onStartFailed: (key, reason) => this.waiting?.failed(new Error(`${key} failed to start: ${reason}`)),
      onStarted: (info) => this.waiting?.started(info)
    }, { warmPool: { size: poolSize }, drainDelayMs: 0 })
    this.manager.setTargets([this.target])
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
