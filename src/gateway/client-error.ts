import type { Socket } from 'node:net'
import { writeSocketProblem } from './problem.js'

/**
 * node's HTTP parser rejected a request (bad URL bytes, bad headers, headers
 * too large, headers too slow): answer why, as problem+json, instead of node's
 * bare status line. A connection with a response under way is only closed.
 */
export function answerClientError (err: Error & { code?: string, reason?: string }, socket: Socket, headersTimeoutMs: number): void {
  const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (err.code === 'ECONNRESET' || !socket.writable || busy?.headersSent === true) {
    socket.destroy()
    return
  }
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      writeSocketProblem(socket, 431, 'ROOST_E_HEADERS_TOO_LARGE', 'the request\'s headers are larger than the gateway accepts (16 KiB)')
      return
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      writeSocketProblem(socket, 408, 'ROOST_E_REQUEST_TIMEOUT', `the request's headers did not arrive within ${headersTimeoutMs / 1000}s`)
      return
    default:
      writeSocketProblem(socket, 400, 'ROOST_E_BAD_REQUEST', `the request is not valid HTTP/1.1: ${err.reason ?? err.message} (${err.code ?? 'unknown'})`)
  }
}
