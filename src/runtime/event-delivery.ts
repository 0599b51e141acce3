import type { Context } from './context.js'
import { EventBodyError } from './event-body-error.js'
import type { LazyRequest } from './lazy-request.js'
import type { LogCapture } from './log-capture.js'
import { messageBatch } from './message-batch.js'
import type { ModuleHandlers } from './module-handlers.js'
import { writeProblem, type RuntimeProblem } from './problem.js'
import { readQueueDelivery } from './queue-delivery.js'
import { boundText, Message, type BatchState, type MessageResult } from './queue-message.js'
import { BodyTooLargeError } from './request-body.js'
import type { ResponseSink } from './response-sink.js'
import { readScheduledDelivery } from './scheduled-delivery.js'

// The platform's own requests (docs/event-delivery.md): a batch of queue
// messages or a cron firing, answered with what became of them rather than
// with a Response of the handler's.

/** Which kind of delivery a request is; read only when the gateway flags the request as one. */
export const EVENT_HEADER = 'x-roost-event'
/** The async invocation's record id, on `x-roost-event: invocation`. */
export const CALL_ID_HEADER = 'x-roost-call-id'

// A batch of 100 messages of the largest body a queue takes by default (256 KiB), as base64, fits with room to spare.
const MAX_QUEUE_DELIVERY_BYTES = 48 * 1024 * 1024
const MAX_SCHEDULED_DELIVERY_BYTES = 64 * 1024
const JSON_HEADERS = ['content-type', 'application/json']
const SCHEDULED_ACK = '{"outcome":"ack"}'

/** What serving a delivery needs of the instance. */
export interface DeliveryHost {
  readonly handlers: ModuleHandlers
  readonly capture: LogCapture
  /** The function's name, for messages that tell where to look. */
  readonly functionName: string
  /** Runs user code as part of a request, so that its console lines carry the request's id. */
  run<A extends unknown[], R> (requestId: string, fn: (...args: A) => R, ...args: A): R
}

/** Serves a `queue` or `scheduled` delivery (anything else is a 400); never rejects. */
export async function serveDelivery (kind: string | null, request: LazyRequest, ctx: Context, host: DeliveryHost, sink: ResponseSink): Promise<void> {
  try {
    if (kind === 'queue') await serveQueue(request, ctx, host, sink)
    else if (kind === 'scheduled') await serveScheduled(request, ctx, host, sink)
    else writeProblem(sink, { status: 400, code: 'ROOST_E_BAD_REQUEST', detail: `x-roost-event ${JSON.stringify(kind)} is none of queue, scheduled, invocation` }, ctx.requestId)
  } catch (err) {
    writeProblem(sink, problemOf(err, host, ctx.requestId), ctx.requestId)
  }
}

async function serveQueue (request: LazyRequest, ctx: Context, host: DeliveryHost, sink: ResponseSink): Promise<void> {
  const handler = host.handlers.queue
  if (handler === null) {
    writeProblem(sink, noHandler(host, 'queue', 'export default { async queue (batch, ctx) { … } }'), ctx.requestId)
    return
  }
  const delivery = readQueueDelivery(parseJson(await request.readBody(MAX_QUEUE_DELIVERY_BYTES)))
  const requestId = ctx.requestId
  const state: BatchState = {
    open: true,
    late: (id, verb) => host.capture.write('warn', 'system', requestId, [`message ${id}: ${verb} after the queue handler finished is ignored`])
  }
  const batch = messageBatch(delivery, state)
  // The handler may reorder or empty its array: the answer covers what was delivered.
  const messages = batch.slice()
  let fallback: 'ack' | { error: string } = 'ack'
  try {
    await host.run(requestId, handler, batch, ctx)
  } catch (err) {
    host.capture.write('error', 'system', requestId, ['the queue handler threw an error:', err])
    fallback = { error: errorText(err) }
  }
  state.open = false
  if (allAcked(messages, fallback === 'ack')) {
    if (!sink.closed) sink.whole(200, JSON_HEADERS, `{"acked":${messages.length}}`, false)
    return
  }
  const results = new Array<MessageResult>(messages.length)
  for (let i = 0; i < messages.length; i++) results[i] = Message.resultOf(messages[i], fallback)
  if (!sink.closed) sink.whole(200, JSON_HEADERS, JSON.stringify({ results }), false)
}

async function serveScheduled (request: LazyRequest, ctx: Context, host: DeliveryHost, sink: ResponseSink): Promise<void> {
  const handler = host.handlers.scheduled
  if (handler === null) {
    writeProblem(sink, noHandler(host, 'scheduled', 'export default { async scheduled (event, ctx) { … } }'), ctx.requestId)
    return
  }
  const event = readScheduledDelivery(parseJson(await request.readBody(MAX_SCHEDULED_DELIVERY_BYTES)))
  try {
    await host.run(ctx.requestId, handler, event, ctx)
  } catch (err) {
    host.capture.write('error', 'system', ctx.requestId, ['the scheduled handler threw an error:', err])
    // The detail becomes the attempt's error in the firing's record.
    writeProblem(sink, { status: 500, code: 'ROOST_E_HANDLER', detail: boundText(`the scheduled handler threw: ${errorText(err)}`) }, ctx.requestId)
    return
  }
  if (!sink.closed) sink.whole(200, JSON_HEADERS, SCHEDULED_ACK, false)
}

/** Every delivered message was acknowledged: the answer says so in one number rather than a result each. */
function allAcked (messages: readonly Message[], returned: boolean): boolean {
  for (let i = 0; i < messages.length; i++) if (!Message.acked(messages[i] as Message, returned)) return false
  return true
}

function noHandler (host: DeliveryHost, kind: string, example: string): RuntimeProblem {
  return { status: 500, code: 'ROOST_E_NO_HANDLER', detail: `function ${host.functionName} has a ${kind} trigger but its module exports no ${kind} handler: ${example}` }
}

function parseJson (bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new EventBodyError(`the body is not JSON: ${err instanceof Error ? err.message : String(err)}`, undefined)
  }
}

function problemOf (err: unknown, host: DeliveryHost, requestId: string): RuntimeProblem {
  if (err instanceof EventBodyError) return { status: 400, code: err.code, detail: err.message, field: err.field }
  if (err instanceof BodyTooLargeError) return { status: 413, code: err.code, detail: err.message }
  host.capture.write('error', 'system', requestId, ['the runtime could not serve the delivery:', err])
  return { status: 500, code: 'ROOST_E_HANDLER', detail: `the delivery could not be served: ${errorText(err)}` }
}

function errorText (err: unknown): string {
  if (err instanceof Error) return err.message === '' ? err.name : err.message
  return String(err)
}
