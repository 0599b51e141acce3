import type { IncomingMessage, ServerResponse } from 'node:http'
import { Context } from './context.js'
import type { LogCapture } from './log-capture.js'
import type { RequestTracking } from './request-tracking.js'
import { DEADLINE_HEADER, REQUEST_ID_HEADER, type FunctionIdentity } from './protocol.js'

export type FetchHandler = (req: Request, ctx: Context) => unknown

const PROBLEM_TYPE = 'application/problem+json'

let localSequence = 0

/**
 * Turns node's request into a web `Request`, calls the handler, and writes its
 * `Response` back. Holds the instance's in-flight count for draining.
 */
export class Invoker {
  inflight = 0
  private handler: FetchHandler | null = null
  private fn: FunctionIdentity | null = null
  private timeoutMs = 30_000
  private onIdle: (() => void) | null = null

  constructor (private readonly capture: LogCapture, private readonly requests: RequestTracking) {}

  setHandler (handler: FetchHandler, fn: FunctionIdentity, timeoutMs: number): void {
    this.handler = handler
    this.fn = fn
    this.timeoutMs = timeoutMs
  }

  /** Back to serving nothing (503), as before the first `setHandler`. */
  clearHandler (): void {
    this.handler = null
    this.fn = null
  }

  /** Calls `callback` once nothing is in flight (at once if nothing is). */
  whenIdle (callback: () => void): void {
    if (this.inflight === 0) callback()
    else this.onIdle = callback
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inflight++
    res.once('close', this.release)
    if (this.handler === null) {
      writeProblem(res, 503, 'ROOST_E_NOT_LOADED', 'this instance has not loaded a function yet', null)
      return
    }
    const method = req.method ?? 'GET'
    if (method === 'GET' || method === 'HEAD') {
      void this.invoke(req, res, method, null)
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => { void this.invoke(req, res, method, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)) })
    req.on('error', () => res.destroy())
  }

  private readonly release = (): void => {
    this.inflight--
    if (this.inflight === 0 && this.onIdle !== null) {
      const onIdle = this.onIdle
      this.onIdle = null
      onIdle()
    }
  }

  private async invoke (req: IncomingMessage, res: ServerResponse, method: string, body: Buffer | null): Promise<void> {
    const headers = req.headers
    const requestId = (headers[REQUEST_ID_HEADER] as string | undefined) ?? `local-${process.pid}-${++localSequence}`
    const deadlineHeader = headers[DEADLINE_HEADER] as string | undefined
    const deadline = deadlineHeader === undefined ? Date.now() + this.timeoutMs : Number(deadlineHeader)
    const ctx = new Context(requestId, deadline, this.fn as FunctionIdentity, this.capture)
    try {
      let response: unknown
      try {
        const request = new Request(`http://${headers.host ?? 'localhost'}${req.url ?? '/'}`, {
          method,
          headers: headers as Record<string, string>,
          body
        })
        response = await this.requests.run(requestId, this.handler as FetchHandler, request, ctx)
      } catch (err) {
        this.failRequest(res, requestId, 'the function threw an error', err)
        return
      }
      if (!(response instanceof Response)) {
        this.failRequest(res, requestId, `the function returned ${describeValue(response)} instead of a Response`, null)
        return
      }
      try {
        await writeResponse(res, response)
      } catch (err) {
        // Headers may be gone already: the only honest signal left is a broken connection.
        this.capture.write('error', 'system', requestId, ['error while streaming the response:', err])
        if (res.headersSent) res.destroy()
        else this.failRequest(res, requestId, 'the response body failed', err)
      }
    } finally {
      this.requests.end(requestId)
    }
  }

  private failRequest (res: ServerResponse, requestId: string, detail: string, err: unknown): void {
    if (err !== null) this.capture.write('error', 'system', requestId, [`${detail}:`, err])
    else this.capture.write('error', 'system', requestId, [detail])
    writeProblem(res, 500, 'ROOST_E_HANDLER', `${detail}; see \`roost logs ${this.fn?.name ?? ''}\` for request ${requestId}`, requestId)
  }
}

async function writeResponse (res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value)
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  const body = response.body
  if (body === null) {
    res.end()
    return
  }
  // Most handlers answer with one chunk: end with it so node sends a
  // Content-Length instead of chunked encoding.
  const reader = body.getReader()
  let next = await reader.read()
  if (next.done) {
    res.end()
    return
  }
  const first = next.value
  next = await reader.read()
  if (next.done) {
    res.end(first)
    return
  }
  res.write(first)
  while (!next.done) {
    if (!res.write(next.value)) await waitForDrain(res)
    next = await reader.read()
  }
  res.end()
}

function waitForDrain (res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    res.once('drain', resolve)
    res.once('close', () => reject(new Error('client closed the connection')))
  })
}

function writeProblem (res: ServerResponse, status: number, code: string, detail: string, requestId: string | null): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ type: `https://roost.dev/errors/${code}`, title: code, status, code, detail, requestId })
  res.writeHead(status, { 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function describeValue (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`
}
