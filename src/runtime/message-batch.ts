import { Message, type BatchState } from './queue-message.js'
import type { QueueDelivery } from './queue-delivery.js'

/** The messages of one delivery, as the `queue` handler gets them: an array, with the queue's name and settling of them all. */
export type MessageBatch = Message[] & {
  readonly queue: string
  /** Acknowledges every message not settled yet. */
  ackAll (): void
  /** Retries every message not settled yet. */
  retryAll (options?: { delay?: number | string }): void
}

export function messageBatch (delivery: QueueDelivery, state: BatchState): MessageBatch {
  const messages = new Array<Message>(delivery.messages.length)
  for (let i = 0; i < messages.length; i++) messages[i] = new Message(delivery.messages[i], state)
  // Not enumerable: the batch logs and spreads as the plain array it is.
  return Object.defineProperties(messages, {
    queue: { value: delivery.queue },
    ackAll: { value: ackAll },
    retryAll: { value: retryAll }
  }) as MessageBatch
}

function ackAll (this: Message[]): void {
  for (const message of this) message.ack()
}

function retryAll (this: Message[], options?: { delay?: number | string }): void {
  for (const message of this) message.retry(options)
}
