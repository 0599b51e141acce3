import { connect } from 'node:net'
import type { Invoker } from './invoke.js'
import type { FunctionIdentity } from './protocol.js'

// Node loads much of what serving a request needs on first use: the web
// Request/Response classes (undici), web streams, the HTTP parser. Measured
// here that is about 30 ms on the first request against 1-3 ms on the next.
// A process of the warm pool pays it while it waits, by sending itself one
// request through the whole path, before it reports listening.
//
// Loading a bundle has first-use costs too, about 1 ms of a 2 ms load of a
// small bundle: bundles import `node:module` (for `createRequire`, see
// src/build/bundle.ts) and end with an inline source map, which node parses
// at compile time under --enable-source-maps. Both are paid here as well.

const WARM_UP_FN: FunctionIdentity = { namespace: 'roost-system', name: 'warm-up', version: 0 }
const BODY = 'warm'
const REQUEST = `POST /warm-up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`
const GIVE_UP_MS = 2000
const SOURCE_MAP = Buffer.from(JSON.stringify({ version: 3, sources: ['warm-up.js'], mappings: 'AAAA', names: [] })).toString('base64')
const SOURCE_MAPPED_MODULE = 'data:text/javascript,' + encodeURIComponent(`export default 0\n//# sourceMappingURL=data:application/json;base64,${SOURCE_MAP}\n`)

/**
 * Serves one request on `port` with a throw-away handler, then leaves the
 * invoker as it was (no handler). Never fails: a warm-up that goes wrong only
 * leaves the work to the first real request.
 */
export async function warmUp (port: number, invoker: Invoker): Promise<void> {
  invoker.setHandler(async (req) => new Response(await req.text(), { headers: { 'content-type': 'text/plain' } }), WARM_UP_FN, GIVE_UP_MS)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      new Promise<void>((resolve) => { timer = setTimeout(resolve, GIVE_UP_MS) }),
      new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(REQUEST))
        socket.resume()
        socket.on('error', () => {})
        // The server closes the connection (Connection: close) once it answered.
        socket.on('close', () => invoker.whenIdle(resolve))
      })
    ])
  } finally {
    clearTimeout(timer)
    invoker.clearHandler()
  }
  try {
    const { createRequire } = await import('node:module')
    createRequire(import.meta.url)
    await import(SOURCE_MAPPED_MODULE)
  } catch {}
}
