import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { EVENT_HEADER } from './event-delivery.js'
import type { Invoker } from './invoke.js'
import { LazyRequest } from './lazy-request.js'
import { RequestBody } from './request-body.js'
import type { ResponseSink } from './response-sink.js'

// The same runtime over node:http, for `roost dev` and for measuring an
// instance called directly: the same lazy Request, light Response and writer.

const REQUEST_ID_HEADER = 'x-request-id'
const PROBLEM_TYPE = 'application/problem+json'

let sequence = 0
const LOCAL_PREFIX = `local-${process.pid}-`

/** A node:http server that hands every request to the invoker. */
export function createHttpServer (invoker: Invoker): Server {
  return createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => serveHttp(invoker, req, res))
}

export function serveHttp (invoker: Invoker, req: IncomingMessage, res: ServerResponse): void {
  if (!invoker.loaded) {
    const body = JSON.stringify({ type: 'https://roost.dev/errors/ROOST_E_NOT_LOADED', title: 'Not loaded', status: 503, code: 'ROOST_E_NOT_LOADED', detail: 'no function is loaded yet' })
    res.writeHead(503, { 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body) })
    res.end(body)
    return
  }
  const method = req.method ?? 'GET'
  let body: RequestBody | null = null
  if (method !== 'GET' && method !== 'HEAD') {
    const incoming = new RequestBody({ pause: () => req.pause(), resume: () => req.resume() })
    req.on('data', (chunk: Buffer) => incoming.push(chunk))
    req.on('end', () => incoming.end())
    req.on('error', (err) => incoming.fail(err))
    body = incoming
  }
  const request = new LazyRequest(method, req.url ?? '/', req.rawHeaders, body)
  const requestId = requestIdOf(req.rawHeaders) ?? LOCAL_PREFIX + String(++sequence)
  const sink = new HttpSink(res, request, body, invoker, requestId)
  if (eventSeen) invoker.serveEvent(request, { requestId, deadline: 0 }, sink)
  else invoker.serve(request, { requestId, deadline: 0 }, sink)
}

// Set by requestIdOf: the one scan of the headers notes an `x-roost-event` too.
// No gateway vouches for it here: HTTP mode serves `roost dev`, where trying a
// queue or scheduled handler with curl is the point.
let eventSeen = false

// Read from rawHeaders: touching `req.headers` makes node build an object per request.
function requestIdOf (rawHeaders: string[]): string | null {
  eventSeen = false
  let requestId: string | null = null
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name.length === REQUEST_ID_HEADER.length) {
      if (requestId === null && name.toLowerCase() === REQUEST_ID_HEADER) requestId = rawHeaders[i + 1]
    } else if (name.length === EVENT_HEADER.length && name.toLowerCase() === EVENT_HEADER) eventSeen = true
  }
  return requestId
}

/** A response written to node:http. */
class HttpSink implements ResponseSink {
  closed = false
  private closeCallback: (() => void) | null = null
  private watching = false

  constructor (
    private readonly res: ServerResponse,
    private readonly request: LazyRequest,
    private readonly body: RequestBody | null,
    private readonly invoker: Invoker,
    private readonly requestId: string
  ) {}

  // A response written at once needs no close listener: most cost none.
  pending (): void {
    if (this.watching) return
    this.watching = true
    if (this.res.destroyed) this.onSocketClose()
    else this.res.once('close', this.onSocketClose)
  }

  whole (status: number, headers: string[], body: string | Uint8Array | null, omitBody: boolean): void {
    const length = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length
    this.res.writeHead(status, headers.concat('content-length', String(length)))
    if (omitBody || body === null) this.res.end()
    else this.res.end(body)
  }

  head (status: number, headers: string[]): void {
    this.res.writeHead(status, headers)
    this.res.flushHeaders()
  }

  chunk (data: Uint8Array): boolean {
    return this.res.write(data)
  }

  ready (): Promise<void> {
    if (this.closed || !this.res.writableNeedDrain) return Promise.resolve()
    return new Promise((resolve) => {
      this.res.once('drain', resolve)
      this.res.once('close', resolve)
    })
  }

  end (): void {
    this.res.end()
  }

  abort (): void {
    this.res.destroy()
  }

  onClose (callback: () => void): void {
    this.closeCallback = callback
  }

  private readonly onSocketClose = (): void => {
    if (this.res.writableFinished || this.closed) return
    this.invoker.within(this.requestId, this.cancel)
  }

  private readonly cancel = (): void => {
    this.closed = true
    const error = new Error('the caller closed the connection')
    this.request.abort(error)
    this.body?.fail(error)
    const callback = this.closeCallback
    this.closeCallback = null
    callback?.()
  }
}
