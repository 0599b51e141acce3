// A TCP relay between a client under test and a real server on loopback, so a
// test can cut the connection (a broker outage as the client sees it) and
// restore it, without touching the server that other tests share.
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export class TcpRelay {
  private readonly pairs = new Set<Socket>()
  private server: Server | undefined
  private port = 0

  private constructor (private readonly targetPort: number, private readonly targetHost: string) {}

  /** A relay on 127.0.0.1 at a free port, piping every connection to the target. */
  static async start (targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
    const relay = new TcpRelay(targetPort, targetHost)
    await relay.listen()
    return relay
  }

  /** The relay's own port (the same across cut and restore). */
  get listeningPort (): number {
    return this.port
  }

  /** Whether connections are let through now. */
  get open (): boolean {
    return this.server !== undefined
  }

  /** Destroys every open connection, both sides, and refuses new ones until restore(). */
  async cut (): Promise<void> {
    await this.stopListening()
  }

  /** Lets connections through again, on the same port. */
  async restore (): Promise<void> {
    if (this.server === undefined) await this.listen()
  }

  async close (): Promise<void> {
    await this.stopListening()
  }

  private async listen (): Promise<void> {
    const server: Server = createServer((client) => this.relay(server, client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  private async stopListening (): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const socket of this.pairs) socket.destroy()
    this.pairs.clear()
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private relay (server: Server, client: Socket): void {
    // Accepted just as the relay was cut: refused like the ones after it.
    if (this.server !== server) {
      client.destroy()
      return
    }
    const upstream = connect(this.targetPort, this.targetHost)
    this.pairs.add(client)
    this.pairs.add(upstream)
    // Either side ending or failing ends both, as a real network failure would look to the client.
    const end = (): void => {
      client.destroy()
      upstream.destroy()
      this.pairs.delete(client)
      this.pairs.delete(upstream)
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  }
}

/** `url` with its host and port replaced by the relay's, credentials and path kept. */
export function relayedUrl (url: string, relay: TcpRelay): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(relay.listeningPort)
  return parsed.toString()
}

/** The port a broker URL names (its scheme's default when it names none). */
export function portOf (url: string): number {
  const parsed = new URL(url)
  if (parsed.port !== '') return Number(parsed.port)
  const defaults: Record<string, number> = { 'nats:': 4222, 'redis:': 6379, 'rediss:': 6380, 'amqp:': 5672, 'amqps:': 5671 }
  const port = defaults[parsed.protocol]
  if (port === undefined) throw new Error(`no default port for ${parsed.protocol} in ${url}`)
  return port
}
