// The control plane's end of the delivery channel to the gateway's worker
// (delivery-port.ts is the other): a delivery is posted as plain data, its
// answer comes back whole. It gives what an HTTP client of the gateway port
// gave (a Host and a Content-Length; a time bound on the answer; an abort)
// without the HTTP on either side.
import type { MessagePort } from 'node:worker_threads'
import { IdTable } from '../wire/index.js'
import type { DeliveryCommand, DeliveryReply } from './delivery-messages.js'

/** One delivery: a request to a function's route with the event headers and the run's event token, as the dispatcher builds it. */
export interface ChannelRequest {
  method: string
  /** `/fn/<name>.<namespace>/…` */
  path: string
  headers: ReadonlyArray<readonly [string, string]>
  /** JSON text for queue and scheduled (docs/event-delivery.md); the stored request's body for an invocation. */
  body: string | Buffer
  timeoutMs: number
}

/** What became of a delivery, as the settlement table reads it. */
export type ChannelAnswer =
  /** Header names in lower case; the body up to a bound (a stored response is cut further by its queue). */
  | { kind: 'answered', status: number, headers: Record<string, string>, body: Buffer }
  /** The gateway is gone, or ended the delivery before a whole answer. */
  | { kind: 'unreachable', error: string }
  /** No answer within the delivery's time. */
  | { kind: 'timed-out' }
  /** The platform stopped it (it stops, or a cron firing was replaced). */
  | { kind: 'aborted' }

interface Pending {
  resolve: (answer: ChannelAnswer) => void
  timer: NodeJS.Timeout
  signal: AbortSignal
  onAbort: () => void
}

const ABORTED: ChannelAnswer = { kind: 'aborted' }
const TIMED_OUT: ChannelAnswer = { kind: 'timed-out' }
const UTF8 = new TextEncoder()

export class DeliveryChannel {
  private lastId = 0
  private readonly pending = new IdTable<Pending>()
  private closedWith: string | null = null

  constructor (private readonly port: MessagePort, /** host:port of the gateway, the Host a delivery carries. */ private readonly authority: string) {
    port.on('message', (replies: DeliveryReply[]) => {
      for (let i = 0; i < replies.length; i++) this.replied(replies[i] as DeliveryReply)
    })
    port.on('close', () => this.close('the gateway closed its delivery channel'))
    // Deliveries in flight hold their timers; an idle channel keeps nothing alive.
    port.unref()
  }

  /** Never rejects: every outcome is an answer. */
  readonly deliver = (request: ChannelRequest, signal: AbortSignal): Promise<ChannelAnswer> => {
    if (this.closedWith !== null) return Promise.resolve({ kind: 'unreachable', error: this.closedWith })
    if (signal.aborted) return Promise.resolve(ABORTED)
    const id = this.lastId = this.pending.freeIdAfter(this.lastId)
    const body = bytesOf(request.body)
    const rawHeaders: string[] = ['host', this.authority, 'content-length', String(body.byteLength)]
    for (const [name, value] of request.headers) rawHeaders.push(name, value)
    return new Promise((resolve) => {
      const onAbort = (): void => this.giveUp(id, ABORTED)
      const timer = setTimeout(() => this.giveUp(id, TIMED_OUT), request.timeoutMs)
      this.pending.set(id, { resolve, timer, signal, onAbort })
      signal.addEventListener('abort', onAbort, { once: true })
      const command: DeliveryCommand = { t: 'deliver', id, method: request.method, path: request.path, rawHeaders, body }
      // Posted at once, not batched as the answers are: the gateway starts on one delivery of a fetch while the next is written (batched, a Redis drain lost a tenth).
      this.port.postMessage([command], body.byteLength === 0 ? undefined : [body.buffer as ArrayBuffer])
    })
  }

  /** The gateway is gone: deliveries in flight and later ones are answered unreachable. */
  close (reason: string): void {
    if (this.closedWith !== null) return
    this.closedWith = reason
    for (const [id] of this.pending.entries()) this.settle(id, { kind: 'unreachable', error: reason })
    this.port.close()
  }

  private replied (reply: DeliveryReply): void {
    if (reply.t === 'failed') {
      this.settle(reply.id, { kind: 'unreachable', error: reply.error })
      return
    }
    const { body } = reply
    this.settle(reply.id, { kind: 'answered', status: reply.status, headers: reply.headers, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) })
  }

  private giveUp (id: number, answer: ChannelAnswer): void {
    if (!this.settle(id, answer)) return
    const command: DeliveryCommand = { t: 'cancel', id }
    this.port.postMessage([command])
  }

  private settle (id: number, answer: ChannelAnswer): boolean {
    const pending = this.pending.get(id)
    if (pending === undefined) return false
    this.pending.delete(id)
    clearTimeout(pending.timer)
    pending.signal.removeEventListener('abort', pending.onAbort)
    pending.resolve(answer)
    return true
  }
}

/** The body as bytes in an ArrayBuffer of their own, which can be moved to the worker (never a slab of node's Buffer pool). */
function bytesOf (body: string | Buffer): Uint8Array {
  if (typeof body === 'string') return UTF8.encode(body)
  const bytes = new Uint8Array(body.byteLength)
  bytes.set(body)
  return bytes
}
