// The runtime host over its framed data socket (what the gateway speaks),
// driven by a client in this process with a fixed number of requests in
// flight: req/s and the host's CPU per request.
//
//   npx tsc -p tsconfig.json && node dist/bench/runtime-frames.js [--seconds 5] [--inflight 32]
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ticksOf } from './cpu.js'
import { FrameDecoder, FrameType, FrameWriter, MAX_CONTROL_PAYLOAD_BYTES, MAX_DATA_PAYLOAD_BYTES } from '../src/wire/index.js'
import { RUNTIME_HOST_ENTRY, type ChildMessage } from '../src/runtime/index.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, inflight: { type: 'string', default: '32' } } })
const seconds = Number(values.seconds)
const inflight = Number(values.inflight)
const TICK_US = 10_000

const dir = mkdtempSync(join(tmpdir(), 'roost-bench-frames-'))
const bundle = join(dir, 'hello.mjs')
writeFileSync(bundle, "export default () => new Response('hello')\n")
const socketPath = join(dir, 'data.sock')
const child = spawn(process.execPath, [RUNTIME_HOST_ENTRY], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'], env: { PATH: process.env.PATH, ROOST_RUNTIME_SOCKET: socketPath, ROOST_RUNTIME_WARM_UP: '1' } })
try {
  const pipe = child.stdio[3] as Socket
  const control = new FrameWriter(pipe)
  const messages: ChildMessage[] = []
  const waiters: Array<() => void> = []
  pipe.on('data', (chunk: Buffer) => decoder.push(chunk))
  const decoder = new FrameDecoder((_type, _stream, payload) => { messages.push(JSON.parse(payload.toString()) as ChildMessage); for (const w of waiters.splice(0)) w() }, MAX_CONTROL_PAYLOAD_BYTES)
  const message = async (t: ChildMessage['t']): Promise<ChildMessage> => {
    for (;;) {
      const found = messages.find((m) => m.t === t)
      if (found !== undefined) return found
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  const { secret } = await message('listening') as { secret: string }
  control.text(FrameType.Control, 0, JSON.stringify({ t: 'load', instanceId: 'bench', bundlePath: bundle, fn: { namespace: 'bench', name: 'hello', version: 1 }, env: {}, timeoutMs: 30000 }))
  await message('ready')

  const socket = connect(socketPath)
  await new Promise((resolve) => socket.once('connect', resolve))
  const writer = new FrameWriter(socket)
  writer.text(FrameType.Hello, 0, secret)
  let stream = 1
  let done = 0
  let running = true
  const send = (): void => {
    writer.request(stream, { flags: 0, deadline: Date.now() + 30_000, method: 'GET', url: '/', requestId: `b-${stream}`, headers: ['host', 'bench', 'user-agent', 'bench'] })
    stream += 2
  }
  const answers = new FrameDecoder((type) => {
    if (type !== FrameType.ResponseEnd) return
    done++
    if (running) send()
  }, MAX_DATA_PAYLOAD_BYTES)
  socket.on('data', (chunk: Buffer) => answers.push(chunk))
  for (let i = 0; i < inflight; i++) send()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const startDone = done
  const startTicks = ticksOf(child.pid as number) ?? 0
  const started = performance.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const requests = done - startDone
  const elapsed = (performance.now() - started) / 1000
  const ticks = (ticksOf(child.pid as number) ?? 0) - startTicks
  running = false
  console.log(`runtime host over frames: ${Math.round(requests / elapsed)} req/s, ${(ticks * TICK_US / requests).toFixed(1)} µs host CPU/req (${inflight} in flight, ${seconds}s, one connection, client in this process)`)
  socket.destroy()
} finally {
  child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
