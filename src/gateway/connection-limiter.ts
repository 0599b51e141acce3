import type { Socket } from 'node:net'

/**
 * Caps the connections the gateway holds, in total and per client address, so
 * that slow or abusive clients cannot exhaust the process's file descriptors.
 * Counting is per connection, never per request.
 */
export class ConnectionLimiter {
  private total = 0
  private readonly perClient = new Map<string, number>()

  constructor (readonly maxTotal: number, readonly maxPerClient: number) {}

  /** Why `socket` may not be held ('' if it may); an admitted socket is counted until it closes. */
  admit (socket: Socket): string {
    const address = socket.remoteAddress ?? ''
    const fromClient = this.perClient.get(address) ?? 0
    if (this.total >= this.maxTotal) return `the gateway holds its maximum of ${this.maxTotal} connections`
    if (fromClient >= this.maxPerClient) return `the gateway holds its maximum of ${this.maxPerClient} connections from ${address}`
    this.total++
    this.perClient.set(address, fromClient + 1)
    socket.once('close', () => this.release(address))
    return ''
  }

  get connections (): number {
    return this.total
  }

  private release (address: string): void {
    this.total--
    const left = (this.perClient.get(address) ?? 1) - 1
    if (left === 0) this.perClient.delete(address)
    else this.perClient.set(address, left)
  }
}
