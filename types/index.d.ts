// Types of the Roost handler contract. A function module's default export is
// either a fetch handler or an object with a handler per kind of event:
//
//   import type { Context } from '@roost/types'
//   export default async function (req: Request, ctx: Context): Promise<Response> {
//     return new Response(`hello from ${ctx.function.name}`)
//   }
//
//   import type { FunctionModule, MessageBatch } from '@roost/types'
//   export default {
//     async fetch (req, ctx) { await ctx.publish('orders', await req.json()); return new Response(null, { status: 202 }) },
//     async queue (batch: MessageBatch<Order>, ctx) { for (const m of batch) await fulfil(m.body) },
//     async scheduled (event, ctx) { ctx.log.info('report for', new Date(event.scheduledTime)) }
//   } satisfies FunctionModule

export interface Logger {
  debug (...args: unknown[]): void
  info (...args: unknown[]): void
  warn (...args: unknown[]): void
  error (...args: unknown[]): void
}

export interface FunctionIdentity {
  readonly namespace: string
  readonly name: string
  readonly version: number
}

export interface Context {
  /** The id of this request, also in the `x-request-id` header and in `roost logs`. */
  readonly requestId: string
  /** Epoch milliseconds after which the caller has been answered 504. */
  readonly deadline: number
  /** Which function and version is running. */
  readonly function: FunctionIdentity
  /** Lines written here reach `roost logs`, tagged with the request id. */
  readonly log: Logger
  /** Milliseconds left before the deadline. */
  remainingMs (): number
  /**
   * Who called, as the function's `spec.http.auth` check found it: `key:<id>`,
   * `jwt:<sub>`, `hmac:<secret name>`, `fn:<namespace>/<name>` (another
   * function); null for a function any caller may call.
   */
  readonly caller: string | null
  /** The lane this request runs in (a lane rule matched it, or the calling function's request ran in it); null: none. */
  readonly lane: string | null
  /**
   * fetch() for calling other functions: a path such as `/fn/other` goes to the
   * gateway, and every call to the gateway carries this request's deadline, its
   * lane and the proof of which function calls (private functions take only
   * such calls). Other URLs are fetched as given.
   */
  fetch (input: string | URL | Request, init?: RequestInit): Promise<Response>
  /**
   * The id of the async invocation this request is (it came in as
   * `POST /async/fn/…` and was stored; the caller got `202` and this id as
   * `X-Call-Id`); null for a request someone is waiting on.
   */
  readonly callId: string | null
  /**
   * Publishes a message to a queue of this function's namespace; resolves
   * once the platform stored it durably. A JSON value travels as JSON, a
   * string as text, a Uint8Array (any view) or ArrayBuffer as bytes. Rejects
   * with a PublishError when the platform refuses it (429 the queue is full,
   * with `retryAfterMs`; 404 no such queue; 413 the body is too large), and
   * with a TypeError for a body or option that cannot be sent.
   */
  publish (queue: string, body: unknown, options?: PublishOptions): Promise<PublishResult>
  /** Publishes several messages in one request, a result per item in order; a full queue refuses them all. */
  publishBatch (queue: string, items: PublishItem[]): Promise<PublishResult[]>
}

/** Milliseconds, or a duration as manifests write them: "500ms", "5s", "2m", "1h". */
export type Delay = number | `${number}${'ms' | 's' | 'm' | 'h'}`

export interface PublishOptions {
  /**
   * Idempotency key: a second message with the same key within the queue's
   * retention is a duplicate (refused, or replacing the waiting one), so
   * publishing twice does not mean processing twice.
   */
  key?: string
  /** Not delivered before this delay. */
  delay?: Delay
  /** String attributes, delivered with the message (its CloudEvents extensions). */
  attributes?: Record<string, string>
  /** What a key already in use does: refuse this message (default), or replace the waiting one. */
  onDuplicate?: 'refuse' | 'replace'
}

export interface PublishItem extends PublishOptions {
  body: unknown
}

export interface PublishResult {
  /** The message's id; for a duplicate, the id of the message already there. */
  readonly id: string
  readonly outcome: 'created' | 'replaced' | 'duplicate'
}

/** What ctx.publish rejects with when the platform refused the message or did not answer. */
export interface PublishError extends Error {
  readonly name: 'PublishError'
  /** A stable code: ROOST_E_QUEUE_FULL, ROOST_E_NOT_FOUND, ROOST_E_VALIDATION, ROOST_E_TIMEOUT (no answer before the deadline), ROOST_E_CONNECTION, … */
  readonly code: string
  /** The HTTP status of the refusal; 0 when no answer came. */
  readonly status: number
  /** With 429: wait this long before publishing again. */
  readonly retryAfterMs: number | undefined
  /** The field at fault, when the refusal names one. */
  readonly field: string | undefined
}

/** The CloudEvents 1.0 context attributes of a message; its extension attributes are `Message.attributes`. */
export interface CloudEventAttributes {
  readonly specversion: '1.0'
  readonly id: string
  readonly source: string
  readonly type: string
  /** RFC 3339: when the message was published. */
  readonly time: string
  readonly datacontenttype?: string
  readonly subject?: string
}

export interface RetryOptions {
  /** Deliver it again after this delay rather than after the queue's backoff. */
  delay?: Delay
}

/**
 * One message of a queue batch. It settles once: the first of ack(), retry()
 * and deadLetter() counts, later calls are ignored. A message the handler
 * does not settle is acknowledged when the handler returns, and retried
 * (a counted attempt, with the error) when it throws.
 */
export interface Message<Body = unknown> {
  readonly id: string
  /** The JSON value, the string, or the bytes that were published. */
  readonly body: Body
  readonly attributes: Readonly<Record<string, string>>
  /** This delivery's attempt, 1 for the first. */
  readonly attempt: number
  /** After this many attempts the message goes to the dead-letter box. */
  readonly maxAttempts: number
  /** Epoch ms of the publish. */
  readonly createdAt: number
  readonly cloudEvent: CloudEventAttributes
  /** Done with it. */
  ack (): void
  /** Deliver it again (a counted attempt), after `delay` or the queue's backoff. */
  retry (options?: RetryOptions): void
  /** Do not retry it: it goes to the dead-letter box with this reason. */
  deadLetter (reason?: string): void
}

/** The messages of one delivery: an array, with the queue's name and settling of all not settled yet. */
export interface MessageBatch<Body = unknown> extends Array<Message<Body>> {
  readonly queue: string
  ackAll (): void
  retryAll (options?: RetryOptions): void
}

/** One firing of a cron trigger. */
export interface ScheduledEvent {
  /** Deterministic (trigger and scheduled time): the same time never fires twice, across restarts too. */
  readonly id: string
  /** The trigger's name. */
  readonly trigger: string
  /** The schedule as the trigger writes it, e.g. "0 3 * * *". */
  readonly cron: string
  readonly timezone: string
  /** Epoch ms of the intended time of this firing (not when it ran). */
  readonly scheduledTime: number
}

export type Handler = (req: Request, ctx: Context) => Response | Promise<Response>
export type FetchHandler = Handler
export type QueueHandler<Body = unknown> = (batch: MessageBatch<Body>, ctx: Context) => void | Promise<void>
export type ScheduledHandler = (event: ScheduledEvent, ctx: Context) => void | Promise<void>

/** A handler per kind of event; at least one must be there. Methods, so that `queue` may type its messages' body. */
export interface HandlerObject {
  fetch? (req: Request, ctx: Context): Response | Promise<Response>
  /** Queue triggers (`spec.triggers: [{ queue: … }]`). */
  queue? (batch: MessageBatch<any>, ctx: Context): void | Promise<void>
  /** Cron triggers (`spec.triggers: [{ cron: … }]`). */
  scheduled? (event: ScheduledEvent, ctx: Context): void | Promise<void>
}

export type FunctionModule = Handler | HandlerObject
