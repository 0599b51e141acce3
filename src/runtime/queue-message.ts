import { delayMs } from './duration.js'
import type { DeliveredMessage } from './queue-delivery.js'

/** What became of one message, as the answer to the dispatcher carries it (docs/event-delivery.md). */
export type MessageResult =
  | { id: string, outcome: 'ack' }
  | { id: string, outcome: 'retry', delayMs?: number, error?: string }
  | { id: string, outcome: 'dead', reason: string }

/** The CloudEvents 1.0 context attributes of a message; its extensions are `attributes`. */
export interface MessageCloudEvent {
  specversion: '1.0'
  id: string
  source: string
  type: string
  time: string
  datacontenttype?: string
  subject?: string
}

/** What the messages of one batch share: whether settling still means anything, and where a late one is told. */
export interface BatchState {
  open: boolean
  late (id: string, verb: string): void
}

// A reason or error travels to the dispatcher and into the record's attempts: bounded.
const MAX_TEXT_CHARS = 4096
const DEFAULT_DEAD_REASON = 'dead-lettered by the handler'

/**
 * One message of a batch, as the `queue` handler sees it. It settles once:
 * the first of ack(), retry() and deadLetter() counts, later calls are
 * ignored, and so is any call after the handler has finished.
 */
export class Message {
  readonly id: string
  readonly body: unknown
  readonly attributes: Record<string, string>
  readonly attempt: number
  readonly maxAttempts: number
  /** Epoch ms of the publish. */
  readonly createdAt: number
  #delivered: DeliveredMessage
  #batch: BatchState
  #result: MessageResult | null = null
  #cloudEvent: MessageCloudEvent | null = null

  constructor (delivered: DeliveredMessage, batch: BatchState) {
    this.id = delivered.id
    this.body = delivered.body
    this.attributes = delivered.attributes
    this.attempt = delivered.attempt
    this.maxAttempts = delivered.maxAttempts
    this.createdAt = delivered.createdAt
    this.#delivered = delivered
    this.#batch = batch
  }

  /** Built on first read: most handlers never look. */
  get cloudEvent (): MessageCloudEvent {
    if (this.#cloudEvent === null) {
      const delivered = this.#delivered
      const attributes: MessageCloudEvent = { specversion: '1.0', id: delivered.id, source: delivered.source, type: delivered.type, time: new Date(delivered.createdAt).toISOString() }
      if (delivered.contentType !== undefined) attributes.datacontenttype = delivered.contentType
      if (delivered.subject !== undefined) attributes.subject = delivered.subject
      this.#cloudEvent = attributes
    }
    return this.#cloudEvent
  }

  /** Done with: the message is acknowledged. */
  ack (): void {
    this.#settle('ack()', { id: this.id, outcome: 'ack' })
  }

  /** Deliver it again (a counted attempt), after `delay` (ms or "5s") or else after the queue's backoff. */
  retry (options?: { delay?: number | string }): void {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new TypeError('retry() takes { delay } (milliseconds or a duration such as "5s") or nothing')
    const delay = options?.delay
    if (delay === undefined) this.#settle('retry()', { id: this.id, outcome: 'retry' })
    else this.#settle('retry()', { id: this.id, outcome: 'retry', delayMs: delayMs(delay, 'retry({ delay })') })
  }

  /** Never retry it: straight to the dead-letter box, with `reason`. */
  deadLetter (reason?: string): void {
    if (reason !== undefined && typeof reason !== 'string') throw new TypeError(`deadLetter(reason) takes a string, got ${typeof reason}`)
    this.#settle('deadLetter()', { id: this.id, outcome: 'dead', reason: boundText(reason === undefined || reason === '' ? DEFAULT_DEAD_REASON : reason) })
  }

  #settle (verb: string, result: MessageResult): void {
    if (!this.#batch.open) {
      this.#batch.late(this.id, verb)
      return
    }
    if (this.#result === null) this.#result = result
  }

  /** The runtime's: whether `message` ends acknowledged, by the handler's ack() or by its returning normally. */
  static acked (message: Message, returned: boolean): boolean {
    const result = message.#result
    return result === null ? returned : result.outcome === 'ack'
  }

  /** The runtime's: what the handler decided for `message`, or `fallback` if it decided nothing. */
  static resultOf (message: Message, fallback: 'ack' | { error: string }): MessageResult {
    if (message.#result !== null) return message.#result
    return fallback === 'ack' ? { id: message.id, outcome: 'ack' } : { id: message.id, outcome: 'retry', error: boundText(fallback.error) }
  }
}

export function boundText (text: string): string {
  return text.length <= MAX_TEXT_CHARS ? text : `${text.slice(0, MAX_TEXT_CHARS - 14)} …[truncated]`
}
