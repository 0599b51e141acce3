import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError, type ProblemDetails } from '../errors/index.js'

export interface ClientTimeouts {
  /** From a connection's first byte (or a request's) to the end of its headers. */
  headersMs: number
  /** From a request's first byte to the end of its body: a body sent a byte at a time is cut here. */
  requestMs: number
  /** A connection with no traffic either way for this long is closed. */
  idleMs: number
  /** How long a keep-alive connection waits for its next request. */
  keepAliveMs: number
  /** How often node looks for requests past their deadline: the cut comes at most this late. */
  checkEveryMs: number
}

export const DEFAULT_CLIENT_TIMEOUTS: ClientTimeouts = { headersMs: 10_000, requestMs: 60_000, idleMs: 120_000, keepAliveMs: 5_000, checkEveryMs: 1_000 }

/**
 * The Fastify options that enforce the deadlines. Node 20 keeps them on the
 * http.Server: headersTimeout and requestTimeout are checked every
 * connectionsCheckingInterval (30 s by default, so set here), and Fastify's
 * default requestTimeout of 0 would switch the body deadline off.
 */
export function timeoutOptions (timeouts: ClientTimeouts): {
  connectionTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  http: { headersTimeout: number, requestTimeout: number, connectionsCheckingInterval: number }
} {
  return {
    connectionTimeout: timeouts.idleMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: { headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs), requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkEveryMs }
  }
}

// Closed a little after the answer, for the client to read it; it may still be sending.
const LINGER_MS = 1_000

/**
 * Answers what node's parser refuses before any route runs (a request past
 * its deadline, headers too large, bytes that are not HTTP) with problem+json,
 * as Fastify's clientErrorHandler. Nothing is written once a response started.
 */
export function answerClientError (timeouts: ClientTimeouts): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return
    socket.on('error', () => {})
    const answer = problemFor(error.code, timeouts)
    const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
    if (socket.writable && response?.headersSent !== true) {
      const body = JSON.stringify(answer)
      socket.end(`HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? 'Bad Request'}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' + body)
      socket.resume()
      setTimeout(() => socket.destroy(), LINGER_MS).unref()
    } else {
      socket.destroy()
    }
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

function problemFor (code: string | undefined, timeouts: ClientTimeouts): ProblemDetails {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new RequestTimeoutError(`the request did not arrive in time: its headers must arrive within ${timeouts.headersMs} ms, all of it within ${timeouts.requestMs} ms`, {
      hint: 'send the request at once; a body trickled a few bytes at a time is cut at the deadline'
    }).toProblem()
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new HeadersTooLargeError('the request headers are larger than the API accepts (16 KiB)', { hint: 'send fewer or smaller headers (cookies, tokens)' }).toProblem()
  }
  return new BadRequestError(`the request is not valid HTTP/1.1 (${code ?? 'unknown parse error'})`, { hint: 'check what the client sends' }).toProblem()
}
