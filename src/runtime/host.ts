// The runtime host: the first code that runs in an instance process. It opens
// the control channel (fd 3) and the data socket at once (so a pool of hosts
// can wait, warm, before knowing their function), then loads a bundle when
// told to. Only node built-ins, this folder and src/wire/ are imported:
// every millisecond here is cold-start time.
import { writeSync } from 'node:fs'
import { ControlChannel } from './control-channel.js'
import { DataServer } from './data-server.js'
import { Invoker } from './invoke.js'
import { installLightResponse } from './light-response.js'
import { loadBundle } from './load-bundle.js'
import { LogCapture } from './log-capture.js'
import { CONTROL_FD, MAX_LOAD_FAILED_REASON_BYTES, RUNTIME_SOCKET_ENV, WARM_UP_ENV, type ChildMessage, type LoadMessage, type ParentMessage } from './protocol.js'
import { RequestTracking } from './request-tracking.js'
import { warmUp } from './warm-up.js'

const EXIT_CRASH = 70
const EXIT_LOAD_FAILED = 71
const EXIT_SETUP_FAILED = 72

// A crash must reach `roost logs`. The control channel is asynchronous and
// would be lost on exit, so the stack goes synchronously to stderr, which the
// parent captures.
const fatal = (code: number, kind: string) => (err: unknown): void => {
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err)
  try { capture.flush() } catch {}
  try { writeSync(2, `${kind}: ${stack}\n`) } catch {}
  process.exit(code)
}
process.on('uncaughtException', fatal(EXIT_CRASH, 'uncaught exception'))
process.on('unhandledRejection', fatal(EXIT_CRASH, 'unhandled promise rejection'))

// Nothing function-specific is known at spawn (a warm process does not know
// its function yet): the function's env, identity and user come with `load`.
const warm = process.env[WARM_UP_ENV] === '1'
const socketPath = process.env[RUNTIME_SOCKET_ENV]
delete process.env[WARM_UP_ENV]
delete process.env[RUNTIME_SOCKET_ENV]

installLightResponse()
const control = new ControlChannel(CONTROL_FD, onMessage, () => process.exit(0), fatal(EXIT_SETUP_FAILED, 'control channel'))
const send = (message: ChildMessage): void => control.send(message)
// A function that logs faster than the parent reads loses lines (counted), not memory.
const MAX_CONTROL_BACKLOG_BYTES = 4 * 1024 * 1024
const capture = new LogCapture(send, () => control.backlog < MAX_CONTROL_BACKLOG_BYTES)
const requests = new RequestTracking()
capture.patchConsole(requests)
const invoker = new Invoker(capture, requests)
const data = new DataServer(invoker)
let lastElu = performance.eventLoopUtilization()
let loading = false

start().catch(fatal(EXIT_SETUP_FAILED, 'the runtime could not start'))

async function start (): Promise<void> {
  if (socketPath === undefined || socketPath === '') throw new Error(`${RUNTIME_SOCKET_ENV} is not set: the runtime needs the path of its data socket`)
  await data.listen(socketPath)
  if (warm) await warmUp(invoker)
  send({ t: 'listening', secret: data.secret })
}

function onMessage (message: ParentMessage): void {
  switch (message.t) {
    case 'load': void load(message); break
    case 'ping': pong(message.id); break
    case 'drain': drain(); break
  }
}

function pong (id: number): void {
  const now = performance.eventLoopUtilization()
  const elu = performance.eventLoopUtilization(now, lastElu).utilization
  lastElu = now
  const cpu = process.cpuUsage()
  send({ t: 'pong', id, elu: Number.isFinite(elu) ? elu : 0, cpuUs: cpu.user + cpu.system })
}

// On the cold-start path: between `load` and `ready` only what must happen
// here happens (env, user, one import, one check), and `ready` leaves at once.
async function load (message: LoadMessage): Promise<void> {
  if (loading || invoker.loaded) return
  loading = true
  const started = performance.now()
  try {
    const handlers = await loadBundle(message)
    invoker.setHandlers(handlers, message.fn, message.timeoutMs, { gatewayUrl: message.gatewayUrl ?? null, callToken: message.callToken ?? null })
  } catch (err) {
    const reason = err instanceof Error ? (err.stack ?? err.message) : String(err)
    capture.flush()
    send({ t: 'load-failed', reason: cut(reason, MAX_LOAD_FAILED_REASON_BYTES) })
    control.flush(() => process.exit(EXIT_LOAD_FAILED))
    return
  }
  send({ t: 'ready', loadMs: performance.now() - started })
}

function drain (): void {
  data.drain(() => {
    invoker.whenIdle(() => {
      capture.flush()
      send({ t: 'drained' })
      control.flush(() => process.exit(0))
    })
  })
}

function cut (text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text
  let cutText = Buffer.from(text).subarray(0, maxBytes - 16).toString('utf8')
  while (Buffer.byteLength(cutText) > maxBytes - 16) cutText = cutText.slice(0, -1)
  return cutText + ' …[truncated]'
}
