import { createServer, type Server } from 'node:net'
import { randomBytes } from 'node:crypto'
import { unlinkSync } from 'node:fs'
import { DataConnection } from './data-connection.js'
import type { Invoker } from './invoke.js'

/**
 * The instance's data socket: a Unix socket only the platform can open, each
 * connection proven by the secret reported in `listening`.
 */
export class DataServer {
  /** 64 hex characters, sent to the parent once over the control channel. */
  readonly secret = randomBytes(32).toString('hex')
  private readonly secretBytes = Buffer.from(this.secret, 'utf8')
  private readonly server: Server
  private readonly connections = new Set<DataConnection>()
  private draining = false
  private onEmpty: (() => void) | null = null

  constructor (private readonly invoker: Invoker) {
    this.server = createServer({ noDelay: true }, (socket) => {
      if (this.draining) {
        socket.destroy()
        return
      }
      this.connections.add(new DataConnection(socket, this.secretBytes, this.invoker, this.closed))
    })
  }

  /** Listens at `path`, replacing a stale socket file left by an earlier process. */
  listen (path: string): Promise<void> {
    try {
      unlinkSync(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(path, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  /** Stops accepting connections and sends GoAway on each; `callback` runs once every connection is closed. */
  drain (callback: () => void): void {
    this.draining = true
    this.server.close()
    for (const connection of this.connections) connection.goAway()
    this.onEmpty = callback
    this.checkEmpty()
  }

  private readonly closed = (connection: DataConnection): void => {
    this.connections.delete(connection)
    this.checkEmpty()
  }

  private checkEmpty (): void {
    if (this.onEmpty === null || this.connections.size > 0) return
    const callback = this.onEmpty
    this.onEmpty = null
    callback()
  }
}
