import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { TooManyConnectionsError } from '../errors/index.js'

export interface ConnectionCaps {
  /** Open connections in all. */
  total: number
  /** Open connections from one client address; well below `total`, so one client cannot take them all. */
  perAddress: number
  /** What the 503 tells a refused client to wait, in seconds. */
  retryAfterSeconds: number
}

export const DEFAULT_CONNECTION_CAPS: ConnectionCaps = { total: 1024, perAddress: 128, retryAfterSeconds: 2 }

// How long a refused connection may stay open for its client to read the 503.
const REFUSED_LINGER_MS = 1_000

/** The open connections a guard counts, for tests and metrics. */
export interface ConnectionCounts {
  readonly total: number
  from (address: string): number
}

/**
 * Caps the connections of an HTTP server in total and per client address. A
 * connection over a cap is answered on the socket itself, before any of its
 * bytes are parsed: 503, Retry-After and a problem+json body, then closed.
 * Never a silent drop: the client learns why and when to come back.
 *
 * Not tied to the API: the gateway's server can be guarded the same way.
 * The guard takes the server's own 'connection' listeners (node's HTTP parser
 * is one) and calls them only for admitted sockets, so a refused connection
 * never reaches a route.
 */
export function guardConnections (server: Server, caps: ConnectionCaps, serverName = 'the API'): ConnectionCounts {
  const inner = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  const perAddress = new Map<string, number>()
  let total = 0

  server.on('connection', (socket: Socket) => {
    const address = clientAddress(socket)
    if (address === undefined) {
      socket.destroy() // already gone: there is nobody to answer
      return
    }
    const fromAddress = perAddress.get(address) ?? 0
    if (total >= caps.total) return refuse(socket, `${serverName} has ${total} connections open, its cap`, caps)
    if (fromAddress >= caps.perAddress) return refuse(socket, `${address} has ${fromAddress} connections open to ${serverName}, the cap per client address`, caps)
    total++
    perAddress.set(address, fromAddress + 1)
    socket.once('close', () => {
      total--
      const left = (perAddress.get(address) ?? 1) - 1
      if (left === 0) perAddress.delete(address)
      else perAddress.set(address, left)
    })
    for (const listener of inner) listener.call(server, socket)
  })

  return {
    get total () { return total },
    from: (address) => perAddress.get(address) ?? 0
  }
}

function refuse (socket: Socket, reason: string, caps: ConnectionCaps): void {
  const problem = new TooManyConnectionsError(`${reason}: this connection is refused`, {
    hint: `retry after ${caps.retryAfterSeconds} s; reuse one keep-alive connection instead of opening many`
  }).toProblem()
  const body = JSON.stringify(problem)
  socket.on('error', () => {}) // a client that went away meanwhile is no failure of ours
  socket.end('HTTP/1.1 503 Service Unavailable\r\n' +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `Retry-After: ${caps.retryAfterSeconds}\r\n` +
    'Connection: close\r\n\r\n' + body)
  // what the client sends meanwhile is read and dropped, so that closing is not a reset
  socket.resume()
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref()
}

// One client, however it is written: ::ffff:127.0.0.1 is 127.0.0.1.
function clientAddress (socket: Socket): string | undefined {
  const address = socket.remoteAddress
  if (address === undefined) return undefined
  return address.startsWith('::ffff:') ? address.slice(7) : address
}
