// Publishing on one connection's confirm channel: a publish resolves only once
// the broker confirmed every message of it, and fails with BrokerMissingError
// when one was returned unroutable (mandatory), which is how a queue that is
// not there shows through the default exchange.
import type { ConfirmChannel, Message, Options } from 'amqplib'
import { ValidationError } from '../errors/index.js'
import { closedEither } from './rabbit-close.js'
import { queueMissing, rabbitFailure, unavailable } from './rabbit-failure.js'

export interface Outgoing {
  queue: string
  content: Buffer
  options: Options.Publish
}

export class RabbitPublisher {
  /** message-id + queue of messages the broker returned, until the publish that sent them looks. */
  private readonly returned = new Map<string, number>()
  private open = true

  constructor (private readonly channel: ConfirmChannel, private readonly address: string) {
    channel.on('return', (message: Message) => {
      const key = returnKey(String(message.properties.messageId), message.fields.routingKey)
      this.returned.set(key, (this.returned.get(key) ?? 0) + 1)
    })
    channel.on('error', ignore)
    channel.on('close', () => { this.open = false })
  }

  get isOpen (): boolean {
    return this.open
  }

  async publish (messages: readonly Outgoing[]): Promise<void> {
    if (!this.open) throw unavailable(this.address, 'the connection is down and being retried')
    const confirms: Promise<void>[] = []
    try {
      for (const { queue, content, options } of messages) {
        let confirmed: (err: unknown) => void = ignore
        confirms.push(new Promise<void>((resolve, reject) => {
          confirmed = (err) => {
            if (err === null || err === undefined) resolve()
            else reject(err instanceof Error ? err : new Error(`the broker refused the message (${String(err)})`))
          }
        }))
        // Outside the promise, so that what sendToQueue throws (a closed channel, a table too large) is caught below.
        this.channel.sendToQueue(queue, content, options, (err: unknown) => confirmed(err))
      }
    } catch (err) {
      confirms.forEach((confirm) => confirm.catch(ignore))
      // amqplib refuses, before sending, headers that do not fit its 64 KiB table buffer.
      if (err instanceof RangeError) {
        throw new ValidationError([{ field: 'attributes', message: `a message's headers are too large for AMQP: ${err.message}` }], { cause: err })
      }
      throw rabbitFailure(err, this.address)
    }
    const outcomes = await Promise.allSettled(confirms)
    const failed = outcomes.find((outcome) => outcome.status === 'rejected')
    // A return comes before the confirm of its message, so every return of this publish is in by now.
    let missing: string | undefined
    for (const { queue, options } of messages) {
      const key = returnKey(String(options.messageId), queue)
      const count = this.returned.get(key)
      if (count === undefined) continue
      if (count <= 1) this.returned.delete(key)
      else this.returned.set(key, count - 1)
      missing ??= queue
    }
    if (failed !== undefined) throw rabbitFailure((failed as PromiseRejectedResult).reason, this.address)
    if (missing !== undefined) throw queueMissing(missing, this.address)
  }

  async close (): Promise<void> {
    if (!this.open) return
    this.open = false
    await closedEither(this.channel, () => this.channel.close())
  }
}

function returnKey (messageId: string, queue: string): string {
  return `${queue}\u0000${messageId}`
}

function ignore (): void {}
