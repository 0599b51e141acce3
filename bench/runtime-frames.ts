// The runtime host over its framed data socket (what the gateway speaks),
// with no gateway: a client in this process keeps a fixed number of requests
// in flight on one connection. It gives the instance's own ceiling on the
// gateway's path (req/s, and the host's CPU per request and its event loop's
// share of a core), which says whether the instance or the gateway bounds
// `roost gateway → instance` in gateway-throughput. Not comparable with wrk's
// figures: the client is JS and shares this process.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ticksOf } from './cpu.js'
import { FrameDecoder, FrameType, FrameWriter, MAX_CONTROL_PAYLOAD_BYTES, MAX_DATA_PAYLOAD_BYTES } from '../src/wire/index.js'
import { RUNTIME_HOST_ENTRY, type ChildMessage } from '../src/runtime/index.js'
import { BenchFailure, formatRps, markdownTable, median, textTable, type Suite, type SuiteOptions, type SuiteReport } from './suite.js'

const IN_FLIGHT = 32
const TICK_US = 10_000
const BODY = 'hello world'

export const runtimeFrames: Suite = {
  name: 'runtime-frames',
  title: 'The runtime host over its framed socket, no gateway',
  run
}

interface Round { rps: number, hostUs: number, loopPercent: number }

async function run (options: SuiteOptions): Promise<SuiteReport> {
  const dir = mkdtempSync(join(tmpdir(), 'roost-bench-frames-'))
  const bundle = join(dir, 'hello.mjs')
  writeFileSync(bundle, `export default () => new Response('${BODY}')\n`)
  const socketPath = join(dir, 'data.sock')
  const child = spawn(process.execPath, [RUNTIME_HOST_ENTRY], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'], env: { PATH: process.env.PATH, ROOST_RUNTIME_SOCKET: socketPath, ROOST_RUNTIME_WARM_UP: '1' } })
  const killOnExit = (): void => { child.kill('SIGKILL') }
  process.once('exit', killOnExit)
  let socket: Socket | null = null
  try {
    const secret = await loadHello(child, bundle)
    socket = connect(socketPath)
    await new Promise((resolve, reject) => { socket?.once('connect', resolve); socket?.once('error', reject) })
    const client = new FramesClient(socket, secret)
    client.start(IN_FLIGHT)
    await sleep(options.warmupSec * 1000)
    const rounds: Round[] = []
    for (let i = 1; i <= options.runs; i++) {
      const round = await measure(client, child.pid as number, options.durationSec)
      if (client.failed > 0) throw new BenchFailure(`${client.failed} requests were not answered 200 '${BODY}'`)
      options.log(`round ${i}/${options.runs}: ${formatRps(round.rps)} req/s, ${round.hostUs.toFixed(1)} µs host CPU per request, its loop at ${round.loopPercent.toFixed(0)}%`)
      rounds.push(round)
    }
    client.stop()
    return report(options, rounds)
  } finally {
    socket?.destroy()
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    process.removeListener('exit', killOnExit)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Sends `load` on the control pipe (fd 3) and waits for ready; returns the data socket's secret. */
async function loadHello (child: ChildProcess, bundle: string): Promise<string> {
  const pipe = child.stdio[3] as Socket
  const control = new FrameWriter(pipe)
  const messages: ChildMessage[] = []
  const waiters: Array<() => void> = []
  const decoder = new FrameDecoder((_type, _stream, payload) => {
    messages.push(JSON.parse(payload.toString()) as ChildMessage)
    for (const wake of waiters.splice(0)) wake()
  }, MAX_CONTROL_PAYLOAD_BYTES)
  pipe.on('data', (chunk: Buffer) => decoder.push(chunk))
  const exited = new Promise<never>((_resolve, reject) => child.once('exit', (code) => reject(new BenchFailure(`the runtime host exited (${String(code)}) before it was ready`))))
  const message = async (t: ChildMessage['t']): Promise<ChildMessage> => {
    for (;;) {
      const found = messages.find((m) => m.t === t)
      if (found !== undefined) return found
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited])
    }
  }
  const { secret } = await message('listening') as { secret: string }
  control.text(FrameType.Control, 0, JSON.stringify({ t: 'load', instanceId: 'bench', bundlePath: bundle, fn: { namespace: 'bench', name: 'hello', version: 1 }, env: {}, timeoutMs: 30000 }))
  await message('ready')
  return secret
}

/** A closed loop of `n` requests in flight on one data connection, as the gateway sends them. */
class FramesClient {
  done = 0
  failed = 0
  private stream = 1
  private running = false
  private readonly writer: FrameWriter
  private readonly status = new Map<number, number>()

  constructor (socket: Socket, secret: string) {
    this.writer = new FrameWriter(socket)
    this.writer.text(FrameType.Hello, 0, secret)
    const answers = new FrameDecoder((type, stream, payload) => {
      if (type === FrameType.Response) this.status.set(stream, payload.readUInt16BE(0))
      else if (type === FrameType.ResponseEnd || type === FrameType.Abort || type === FrameType.Refused) {
        if (type !== FrameType.ResponseEnd || this.status.get(stream) !== 200) this.failed++
        this.status.delete(stream)
        this.done++
        if (this.running) this.send()
      }
    }, MAX_DATA_PAYLOAD_BYTES)
    socket.on('data', (chunk: Buffer) => answers.push(chunk))
  }

  start (n: number): void {
    this.running = true
    for (let i = 0; i < n; i++) this.send()
  }

  stop (): void { this.running = false }

  private send (): void {
    this.writer.request(this.stream, { flags: 0, deadline: Date.now() + 30_000, method: 'GET', url: '/', requestId: `b-${this.stream}`, headers: ['host', 'bench', 'user-agent', 'bench'] })
    this.stream += 2
  }
}

async function measure (client: FramesClient, pid: number, seconds: number): Promise<Round> {
  const startDone = client.done
  const startTicks = ticksOf(pid) ?? 0
  const startLoop = ticksOf(pid, pid) ?? 0
  const started = performance.now()
  await sleep(seconds * 1000)
  const requests = client.done - startDone
  const elapsed = (performance.now() - started) / 1000
  const ticks = (ticksOf(pid) ?? 0) - startTicks
  const loop = (ticksOf(pid, pid) ?? 0) - startLoop
  if (requests === 0) throw new BenchFailure('no request was answered')
  return { rps: requests / elapsed, hostUs: ticks * TICK_US / requests, loopPercent: loop * TICK_US / 1e6 / elapsed * 100 }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function report (options: SuiteOptions, rounds: Round[]): SuiteReport {
  const header = ['runtime host over frames', 'req/s', 'host CPU per request', 'host event loop', 'req/s of each round']
  const rows = [['hello world, 32 in flight, one connection', formatRps(median(rounds.map((r) => r.rps))), `${median(rounds.map((r) => r.hostUs)).toFixed(1)} µs`,
    `${median(rounds.map((r) => r.loopPercent)).toFixed(0)}%`, rounds.map((r) => formatRps(r.rps)).join(' / ')]]
  const method = `the runtime host (src/runtime/host.ts) spawned bare (no uid switch, cgroup or permission model), a client in this process keeping ${IN_FLIGHT} requests in flight on one data connection; ` +
    `${options.warmupSec} s warm-up, then ${options.runs} round${options.runs === 1 ? '' : 's'} of ${options.durationSec} s; median of rounds; CPU from /proc at ${TICK_US / 1000} ms ticks`
  return {
    text: [runtimeFrames.title, `method: ${method}`, '', textTable(header, rows)].join('\n'),
    markdown: [
      'The instance\'s own ceiling on the gateway\'s path: the runtime host answering hello world over its framed data socket (docs/internal-protocol.md) with no gateway in front. ' +
      'If its event loop is far from 100% when the gateway path is slower, the gateway bounds that path, not the instance. The client is JS in the bench process: not comparable with wrk\'s figures.',
      '',
      `- Command: \`${options.command}\``,
      `- Date: ${new Date().toISOString()}`,
      `- Method: ${method}.`,
      '',
      markdownTable(header, rows),
      ''
    ].join('\n')
  }
}
