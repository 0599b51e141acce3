// A stand-in for the runtime host (src/runtime/host.ts) that speaks the
// parent's side of docs/internal-protocol.md — fd 3 frames, the data socket,
// privilege drop before import — and nothing of the data path. The real host
// is being rebuilt on its own branch; the driver's tests fake this peer.
import { randomBytes } from 'node:crypto'
import { writeSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'
import { FrameDecoder, FrameType, FrameWriter, MAX_CONTROL_PAYLOAD_BYTES } from '../../src/wire/index.js'

const control = new Socket({ fd: 3, readable: true, writable: true })
const writer = new FrameWriter(control)
const send = (message: object): void => writer.text(FrameType.Control, 0, JSON.stringify(message))
control.on('close', () => process.exit(0))
control.on('end', () => process.exit(0))
control.on('error', () => process.exit(0))

process.on('uncaughtException', (err) => {
  try { writeSync(2, `uncaught exception: ${err.stack ?? String(err)}\n`) } catch {}
  process.exit(70)
})

let requestLines: object[] = []
const flushLogs = (): void => {
  if (requestLines.length === 0) return
  send({ t: 'logs', lines: requestLines, dropped: 0 })
  requestLines = []
}
console.log = (...args: unknown[]) => {
  requestLines.push({ time: Date.now(), level: 'info', stream: 'console', requestId: null, message: format(...args) })
  setImmediate(flushLogs)
}

const secret = randomBytes(32).toString('hex')
const server = createServer((socket) => socket.destroy())
server.listen(process.env.ROOST_RUNTIME_SOCKET, () => send({ t: 'listening', secret }))

let elu = performance.eventLoopUtilization()
const decoder = new FrameDecoder((_type, _stream, payload) => {
  const message = JSON.parse(payload.toString('utf8'))
  if (message.t === 'load') void load(message)
  if (message.t === 'ping') {
    const now = performance.eventLoopUtilization()
    const usage = process.cpuUsage()
    send({ t: 'pong', id: message.id, elu: performance.eventLoopUtilization(now, elu).utilization, cpuUs: usage.user + usage.system })
    elu = now
  }
  if (message.t === 'drain') {
    server.close()
    flushLogs()
    send({ t: 'drained' })
    setTimeout(() => process.exit(0), 20)
  }
}, MAX_CONTROL_PAYLOAD_BYTES)
control.on('data', (chunk: Buffer) => decoder.push(chunk))

async function load (message: { bundlePath: string, env: Record<string, string>, uid?: number, gid?: number, fn: { name: string, namespace: string, version: number }, instanceId: string }): Promise<void> {
  const started = performance.now()
  Object.assign(process.env, message.env, { ROOST_FUNCTION: message.fn.name, ROOST_NAMESPACE: message.fn.namespace, ROOST_INSTANCE: message.instanceId })
  if (message.uid !== undefined && message.gid !== undefined) {
    process.setgroups?.([])
    process.setgid?.(message.gid)
    process.setuid?.(message.uid)
  }
  try {
    await import(pathToFileURL(message.bundlePath).href)
  } catch (err) {
    send({ t: 'load-failed', reason: err instanceof Error ? (err.stack ?? err.message) : String(err) })
    setTimeout(() => process.exit(71), 50)
    return
  }
  send({ t: 'ready', loadMs: performance.now() - started })
}
