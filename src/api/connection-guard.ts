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
// Connections over a cap that may show their first bytes (to be let in as the
// admin's), and how long those bytes may take: both small, so probing costs little.
const MAX_PROBING = 16
const PROBE_WAIT_MS = 1_000

/** Whether a connection over the caps may come in anyway, from the first bytes it sent (its request head). */
export type OverCapAdmission = (firstBytes: string) => boolean

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
 * Over a cap, `admitOverCap` may still let a connection in on the strength of
 * its first bytes: the API lets the admin token in, so that the admin reaches
 * the API even from the address a flood comes from (on one machine, every
 * tenant's function and the admin's CLI share 127.0.0.1).
 *
 * The guard takes the server's own 'connection' listeners (node's HTTP parser
 * is one) and calls them only for admitted sockets, so a refused connection
 * never reaches a route.
 */
export function guardConnections (server: Server, caps: ConnectionCaps, serverName = 'the API', admitOverCap?: OverCapAdmission): ConnectionCounts {
  const inner = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  const perAddress = new Map<string, number>()
  let total = 0
  let probing = 0
  const pass = (socket: Socket): void => { for (const listener of inner) listener.call(server, socket) }

  // Reads the first chunk of a connection over a cap; lets it in if admitOverCap says so.
  const probe = (socket: Socket, reason: string): void => {
    if (admitOverCap === undefined || probing >= MAX_PROBING) return refuse(socket, reason, caps)
    probing++
    socket.on('error', () => {})
    let settled = false
    const settle = (): boolean => {
      if (settled) return false
      settled = true
      probing--
      clearTimeout(timer)
      return true
    }
    const timer = setTimeout(() => { if (settle()) refuse(socket, reason, caps) }, PROBE_WAIT_MS).unref()
    socket.once('close', settle)
    socket.once('data', (chunk: Buffer) => {
      if (!settle()) return
      if (!admitOverCap(chunk.toString('latin1'))) return refuse(socket, reason, caps)
      // the bytes read to decide go back, for node's HTTP parser to read them first
      socket.pause()
      socket.unshift(chunk)
      pass(socket)
      socket.resume()
    })
  }

  server.on('connection', (socket: Socket) => {
    const address = clientAddress(socket)
    if (address === undefined) {
      socket.destroy() // already gone: there is nobody to answer
      return
    }
    const fromAddress = perAddress.get(address) ?? 0
    if (total >= caps.total) return probe(socket, `${serverName} has ${total} connections open, its cap`)
    if (fromAddress >= caps.perAddress) return probe(socket, `${address} has ${fromAddress} connections open to ${serverName}, the cap per client address`)
    total++
    perAddress.set(address, fromAddress + 1)
    socket.once('close', () => {
      total--
      const left = (perAddress.get(address) ?? 1) - 1
      if (left === 0) perAddress.delete(address)
      else perAddress.set(address, left)
    })
    pass(socket)
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
