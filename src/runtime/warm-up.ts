import { FrameDecoder, FrameType, FrameWriter, MAX_DATA_PAYLOAD_BYTES, readRequestHead, RequestFlags, type FrameSink } from '../wire/index.js'
import { DataStream, type StreamOwner } from './data-stream.js'
import type { Invoker } from './invoke.js'
import { LazyRequest } from './lazy-request.js'
import type { FetchHandler } from './module-handlers.js'
import type { FunctionIdentity } from './protocol.js'
import type { RequestBody } from './request-body.js'

// Node loads much of what serving a request needs on first use: the web
// Request/Response classes (undici), web streams, Headers, and our own
// paths through the frame codec. A process of the warm pool pays that while
// it waits, by serving a few requests to itself in-process (no socket)
// before it reports listening.
//
// Loading a bundle has first-use costs too, about 1 ms of a 2 ms load of a
// small bundle: bundles import `node:module` (for `createRequire`, see
// src/bundler/bundle.ts) and end with an inline source map, which node parses
// at compile time under --enable-source-maps. Both are paid here as well.

const WARM_UP_FN: FunctionIdentity = { namespace: 'roost-system', name: 'warm-up', version: 0 }
const GIVE_UP_MS = 2000
const SOURCE_MAP = Buffer.from(JSON.stringify({ version: 3, sources: ['warm-up.js'], mappings: 'AAAA', names: [] })).toString('base64')
const SOURCE_MAPPED_MODULE = 'data:text/javascript,' + encodeURIComponent(`export default 0\n//# sourceMappingURL=data:application/json;base64,${SOURCE_MAP}\n`)

// The plain path (direct body read, a light Response), then the heavy one (a real Request, a streamed Response).
const PLAIN: FetchHandler = async (req) => new Response(await req.text(), { headers: { 'content-type': req.headers.get('content-type') ?? 'text/plain' } })
const HEAVY: FetchHandler = async (req) => {
  const text = await req.clone().text()
  const encoded = new TextEncoder().encode(text)
  return new Response(new ReadableStream<Uint8Array>({ start (controller) { controller.enqueue(encoded); controller.close() } }), { status: 201 })
}

/**
 * Serves requests through the invoker with throw-away handlers, then leaves
 * it as it was (no handler). Never fails: a warm-up that goes wrong only
 * leaves the work to the first real request.
 */
export async function warmUp (invoker: Invoker): Promise<void> {
  const sent: Buffer[] = []
  // A copy of each write, as the kernel takes one: the writer reuses its buffer.
  const sink: FrameSink = { write: (data) => { sent.push(Buffer.from(data)); return true }, cork () {}, uncork () {}, writableLength: 0 }
  const writer = new FrameWriter(sink)
  const owner: StreamOwner = { writer, writable: async () => {}, finished () {} }
  try {
    for (const [id, handler] of [[1, PLAIN], [2, HEAVY]] as const) {
      invoker.setHandlers({ fetch: handler, queue: null, scheduled: null }, WARM_UP_FN, GIVE_UP_MS)
      await serveOne(invoker, owner, id, writer)
    }
    writer.flush()
    const decoder = new FrameDecoder((type, _stream, payload) => { if (type === FrameType.Request) readRequestHead(payload) }, MAX_DATA_PAYLOAD_BYTES)
    for (const part of sent) decoder.push(part)
  } catch {
  } finally {
    writer.close()
    invoker.clearHandlers()
  }
  try {
    const { createRequire } = await import('node:module')
    createRequire(import.meta.url)
    await import(SOURCE_MAPPED_MODULE)
  } catch {}
}

async function serveOne (invoker: Invoker, owner: StreamOwner, id: number, writer: FrameWriter): Promise<void> {
  const headers = ['host', 'localhost', 'content-type', 'text/plain']
  // The head goes through the codec too, as the gateway would send it.
  writer.request(id, { flags: RequestFlags.HasBody, deadline: 0, method: 'POST', url: '/warm-up', requestId: `warm-up-${id}`, headers })
  const stream = new DataStream(id, `warm-up-${id}`, owner, true)
  const body = stream.body as RequestBody
  const request = new LazyRequest('POST', '/warm-up', headers, body)
  stream.request = request
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    new Promise<void>((resolve) => { timer = setTimeout(resolve, GIVE_UP_MS) }),
    new Promise<void>((resolve) => {
      invoker.serve(request, { requestId: `warm-up-${id}`, deadline: 0 }, stream)
      body.push(Buffer.from('warm'))
      body.end()
      invoker.whenIdle(resolve)
    })
  ])
  clearTimeout(timer)
}
