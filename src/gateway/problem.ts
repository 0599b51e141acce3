import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import { problemTitle } from '../errors/index.js'

// Error answers of the data plane, as application/problem+json (RFC 9457).
// Bodies are built only on the error path; the success path never sees this.

/** How long a socket answered directly stays open for the caller to read the answer. */
const LINGER_MS = 1_000

/** What a problem is written to: node's ServerResponse, or the fast path's response. */
export interface ProblemResponse {
  readonly headersSent: boolean
  writeHead (status: number, headers: OutgoingHttpHeaders): unknown
  end (body: string): unknown
  destroy (): unknown
}

export function sendProblem (
  res: ProblemResponse,
  status: number,
  code: string,
  detail: string,
  requestId: string | null,
  extraHeaders?: Record<string, string>,
  /** Members beyond the usual ones (`field`, `errors`), for the few answers that name a bad field. */
  fields?: Record<string, unknown>
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = problemBody(status, code, detail, requestId, fields)
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    ...extraHeaders
  }
  if (requestId !== null) headers['x-request-id'] = requestId
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * Answers on a raw socket no HTTP response object owns (a connection over
 * the caps, a request node's parser rejected, an upgrade), then closes it.
 * What the caller still sends is read and dropped until the socket closes,
 * so the answer is not lost to a reset.
 */
export function writeSocketProblem (socket: Socket, status: number, code: string, detail: string, extraHeaders = ''): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = problemBody(status, code, detail, null)
  socket.on('error', ignore)
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `connection: close\r\n${extraHeaders}\r\n${body}`
  )
  socket.resume()
  setTimeout(() => socket.destroy(), LINGER_MS).unref()
}

function problemBody (status: number, code: string, detail: string, requestId: string | null, fields?: Record<string, unknown>): string {
  return JSON.stringify({ type: `https://roost.dev/errors/${code}`, title: problemTitle(code), status, code, detail, requestId, ...fields })
}

// A caller gone before reading the answer is no error of the gateway's.
function ignore (): void {}
