// Acknowledgements that wait for the server's answer, over one reply
// subscription per connection. nats.js's request() would do it, but builds
// two Error objects per call (one when the request is tidied up after its
// answer, whatever the options), and every settlement is a request: under
// load that was a third of the platform thread. Here a request is a publish
// with a reply subject, an entry in a table, and one sweep for the timeouts.
import { createInbox, errors as natsErrors } from '@nats-io/transport-node'
import type { Msg, NatsConnection } from '@nats-io/transport-node'
import { IdTable } from '../wire/index.js'

/** What the server made of an acknowledgement: done, or nobody serves the subject (the consumer is gone). */
export type AckAnswer = 'answered' | 'no-responders'

interface Waiting {
  resolve: (answer: AckAnswer) => void
  reject: (err: Error) => void
  /** performance.now() after which it has timed out. */
  until: number
}

const NO_RESPONDERS = 503

export class AckReplies {
  private readonly prefix: string
  // By token: a Map churned once per acknowledgement kept what it held alive into the old generation (src/wire/id-table.ts).
  private readonly waiting = new IdTable<Waiting>()
  private last = 0
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly nc: NatsConnection, private readonly timeoutMs: number) {
    this.prefix = `${createInbox()}.`
    const subscription = nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => this.answered(err, msg) })
    void subscription.closed.then(() => this.failAll(new natsErrors.ClosedConnectionError()), (err: unknown) => this.failAll(err as Error))
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.floor(timeoutMs / 4)))
    this.sweeper.unref()
  }

  /** Publishes `payload` to `subject` and resolves with the server's answer; rejects with a TimeoutError when none comes. */
  request (subject: string, payload: string | Uint8Array): Promise<AckAnswer> {
    const token = this.last = this.waiting.freeIdAfter(this.last)
    return new Promise<AckAnswer>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, until: performance.now() + this.timeoutMs })
      try {
        this.nc.publish(subject, payload, { reply: this.prefix + String(token) })
      } catch (err) {
        this.waiting.delete(token)
        reject(err as Error)
      }
    })
  }

  close (): void {
    clearInterval(this.sweeper)
    this.failAll(new natsErrors.ClosedConnectionError())
  }

  private answered (err: Error | null, msg: Msg): void {
    if (err !== null) {
      this.failAll(err)
      return
    }
    // Only the server answers on the inbox; a token that is not one of ours matches nothing.
    const token = Number(msg.subject.slice(this.prefix.length))
    const waiting = this.waiting.get(token)
    if (waiting === undefined) return
    this.waiting.delete(token)
    waiting.resolve(msg.headers?.code === NO_RESPONDERS ? 'no-responders' : 'answered')
  }

  private sweep (): void {
    const now = performance.now()
    for (const [token, waiting] of this.waiting.entries()) {
      if (waiting.until > now) continue
      this.waiting.delete(token)
      waiting.reject(new natsErrors.TimeoutError())
    }
  }

  // The subscription is gone (the connection closed, or the server refused it): the next request makes a new one.
  private failAll (err: Error): void {
    clearInterval(this.sweeper)
    if (perConnection.get(this.nc) === this) perConnection.delete(this.nc)
    const waiting = this.waiting.list()
    this.waiting.clear()
    for (const w of waiting) w.reject(err)
  }
}

const perConnection = new WeakMap<NatsConnection, AckReplies>()

/** The one AckReplies of a connection, made on first use. */
export function ackRepliesOf (nc: NatsConnection, timeoutMs: number): AckReplies {
  let replies = perConnection.get(nc)
  if (replies === undefined) {
    replies = new AckReplies(nc, timeoutMs)
    perConnection.set(nc, replies)
  }
  return replies
}
