// The runtime host: the first code that runs in an instance process. It starts
// an HTTP server at once (so a pool of hosts can wait, warm, before knowing
// their function), then loads a bundle when told to. Only node built-ins and
// this folder are imported: every millisecond here is cold-start time.
import { createServer } from 'node:http'
import { writeSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { LogCapture } from './log-capture.js'
import { Invoker, type FetchHandler } from './invoke.js'
import { RequestTracking } from './request-tracking.js'
import { warmUp } from './warm-up.js'
import { WARM_UP_ENV, type ChildMessage, type LoadMessage, type ParentMessage } from './protocol.js'

const send = (message: ChildMessage): void => {
  if (process.connected) process.send?.(message)
}

const capture = new LogCapture(send)
const requests = new RequestTracking()
capture.patchConsole(requests)
const invoker = new Invoker(capture, requests)

// An instance without its parent would be an orphan nobody routes to: when the
// platform dies (even by SIGKILL) the IPC channel closes and we leave too.
process.on('disconnect', () => process.exit(0))

// A crash must reach `roost logs`. IPC is asynchronous and would be lost on
// exit, so the stack goes synchronously to stderr, which the parent captures.
const die = (kind: string) => (err: unknown): void => {
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err)
  capture.flush()
  try { writeSync(2, `${kind}: ${stack}\n`) } catch {}
  process.exit(70)
}
process.on('uncaughtException', die('uncaught exception'))
process.on('unhandledRejection', die('unhandled promise rejection'))

// Nothing function-specific is known at spawn (a warm process does not know
// its function yet): the function's env, identity and instance id come with
// `load`. Only the V8 heap limit is fixed, by the parent's command line.
const warm = process.env[WARM_UP_ENV] === '1'
delete process.env[WARM_UP_ENV]

const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 60_000 }, invoker.handle)
server.listen(Number(process.env.ROOST_RUNTIME_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address()
  if (address === null || typeof address !== 'object') return
  // Nobody knows the port before `listening`, so the warm-up's request is the only one.
  if (warm) void warmUp(address.port, invoker).then(() => send({ t: 'listening', port: address.port }))
  else send({ t: 'listening', port: address.port })
})

process.on('message', (message: ParentMessage) => {
  switch (message.t) {
    case 'load': void load(message); break
    case 'ping': send({ t: 'pong', id: message.id }); break
    case 'drain': drain(); break
  }
})

// On the cold-start path: between `load` and `ready` only what must happen
// here happens (env, one import, one check), and `ready` leaves at once.
async function load (message: LoadMessage): Promise<void> {
  const started = performance.now()
  Object.assign(process.env, message.env, {
    ROOST_FUNCTION: message.fn.name,
    ROOST_NAMESPACE: message.fn.namespace,
    ROOST_VERSION: String(message.fn.version),
    ROOST_INSTANCE: message.instanceId
  })
  let handler: FetchHandler
  try {
    const mod = await import(pathToFileURL(message.bundlePath).href) as { default?: unknown }
    handler = resolveHandler(mod.default)
  } catch (err) {
    const reason = err instanceof Error ? (err.stack ?? err.message) : String(err)
    capture.flush()
    // Leave once the message is out (IPC is asynchronous), or soon regardless.
    const leave = (): void => process.exit(71)
    setTimeout(leave, 1000).unref()
    if (process.connected) process.send?.({ t: 'load-failed', reason } satisfies ChildMessage, undefined, {}, () => setTimeout(leave, 20))
    return
  }
  invoker.setHandler(handler, message.fn, message.timeoutMs)
  send({ t: 'ready', loadMs: performance.now() - started })
}

function resolveHandler (exported: unknown): FetchHandler {
  if (typeof exported === 'function') return exported as FetchHandler
  if (exported !== null && typeof exported === 'object') {
    const fetch = (exported as { fetch?: unknown }).fetch
    if (typeof fetch === 'function') return fetch.bind(exported) as FetchHandler
  }
  throw new TypeError(
    `the module's default export must be a function (req, ctx) => Response or an object with a fetch method; got ${exported === null ? 'null' : typeof exported}`
  )
}

function drain (): void {
  server.close()
  server.closeIdleConnections()
  invoker.whenIdle(() => {
    capture.flush()
    send({ t: 'drained' })
    // Give the IPC message a moment to leave before the process does.
    setTimeout(() => process.exit(0), 20).unref()
  })
}
