import type { Socket } from 'node:net'
import { ConnectionLimiter } from './connection-limiter.js'
import { writeSocketProblem } from './problem.js'

/** Connections over the caps that may still reach /healthz or /metrics, and how long their first bytes may take. */
const MAX_EXEMPT_CONNECTIONS = 16
const EXEMPT_WAIT_MS = 1_000
const RESERVED_REQUEST = /^(GET|HEAD) \/(healthz|metrics)[ ?]/

/**
 * Decides which accepted connections reach the HTTP server: those under the
 * caps, and over them a few that ask for /healthz or /metrics (so health
 * checks and scrapes keep working while the gateway is flooded). The rest get
 * 503 with Retry-After written on the socket, then are closed.
 */
export class ConnectionAdmission {
  private readonly limiter: ConnectionLimiter
  private exempt = 0
  private readonly exemptSockets = new WeakSet<Socket>()

  constructor (maxTotal: number, maxPerClient: number, private readonly admitted: (socket: Socket) => void) {
    this.limiter = new ConnectionLimiter(maxTotal, maxPerClient)
  }

  get connections (): number {
    return this.limiter.connections
  }

  /** The socket was let in over the caps: it serves one request. */
  isExempt (socket: Socket): boolean {
    return this.exemptSockets.has(socket)
  }

  readonly accept = (socket: Socket): void => {
    const refusal = this.limiter.admit(socket)
    if (refusal === '') {
      this.admitted(socket)
      return
    }
    if (this.exempt >= MAX_EXEMPT_CONNECTIONS) {
      refuse(socket, refusal)
      return
    }
    this.exempt++
    socket.on('error', ignore)
    const timer = setTimeout(() => {
      this.exempt--
      refuse(socket, refusal)
    }, EXEMPT_WAIT_MS)
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer)
      if (!RESERVED_REQUEST.test(chunk.toString('latin1', 0, 20))) {
        this.exempt--
        refuse(socket, refusal)
        return
      }
      this.exemptSockets.add(socket)
      socket.once('close', () => { this.exempt-- })
      // The bytes read to decide go back for the HTTP parser.
      socket.pause()
      socket.unshift(chunk)
      this.admitted(socket)
      socket.resume()
    })
  }
}

function refuse (socket: Socket, refusal: string): void {
  writeSocketProblem(socket, 503, 'ROOST_E_TOO_MANY_CONNECTIONS', `${refusal}; retry shortly, or reuse connections`, 'retry-after: 1\r\n')
}

function ignore (): void {}
