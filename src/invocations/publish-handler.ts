// A function's publish (ctx.publish → the gateway's POST
// /_roost/queues/<queue>/messages → a `publish` report): the messages are
// checked, written in one transaction with synchronous=FULL, and answered
// 201 with one result per message (docs/event-delivery.md).
import { ValidationError, type FieldProblem } from '../errors/index.js'
import type { EventStore, NewRecord, PublishResult } from '../events/index.js'
import type { ControlAnswer, PublishRequest } from '../gateway/index.js'
import { isAsyncQueue } from './async-queue.js'
import { errorAnswer, jsonAnswer } from './control-answers.js'

/** Messages of one publish at most; more is a sign of a loop, and one transaction should stay short. */
export const MAX_PUBLISH_BATCH = 1000
const BODY_TYPES = new Set(['json', 'text', 'bytes'])
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export interface PublishHooks {
  /** Messages were written to this queue: the dispatcher may deliver them now. */
  onPublished?: (namespace: string, queue: string) => void
  /** The publisher of a queue a broker holds (a broker trigger's); undefined for the embedded queue's. */
  brokerOf?: (namespace: string, queue: string) => BrokerPublisher | undefined
}

export type BrokerPublisher = (records: readonly NewRecord[]) => Promise<PublishResult[]>

/** A publish to a broker trigger's queue goes to its broker (answered once the broker has it); any other to the events database. */
export function answerQueuePublish (events: EventStore, request: PublishRequest, hooks: PublishHooks = {}): ControlAnswer | Promise<ControlAnswer> {
  const broker = hooks.brokerOf?.(request.namespace, request.queue)
  if (broker === undefined) return answerPublish(events, request, hooks)
  try {
    return broker(recordsOf(request.messages)).then((results) => jsonAnswer(201, { results }), (err: unknown) => errorAnswer(err, request.requestId))
  } catch (err) {
    return errorAnswer(err, request.requestId)
  }
}

export function answerPublish (events: EventStore, request: PublishRequest, hooks: PublishHooks = {}): ControlAnswer {
  try {
    if (isAsyncQueue(request.queue)) {
      throw new ValidationError([{ field: 'queue', message: `${request.queue}: queues named async.* hold the platform's async invocations; publish to a queue a function declares in spec.triggers` }])
    }
    const records = recordsOf(request.messages)
    const results = events.publish(request.namespace, request.queue, records)
    if (results.some((r) => r.outcome !== 'duplicate')) hooks.onPublished?.(request.namespace, request.queue)
    return jsonAnswer(201, { results })
  } catch (err) {
    return errorAnswer(err, request.requestId)
  }
}

/** The messages as records; every problem of every message is reported at once. */
export function recordsOf (messages: unknown[]): NewRecord[] {
  const problems: FieldProblem[] = []
  if (messages.length === 0) problems.push({ field: 'messages', message: 'publish at least one message' })
  if (messages.length > MAX_PUBLISH_BATCH) problems.push({ field: 'messages', message: `at most ${MAX_PUBLISH_BATCH} messages in one publish, got ${messages.length}` })
  const records = messages.map((message, i) => recordOf(message, `messages[${i}]`, problems))
  if (problems.length > 0) throw new ValidationError(problems)
  return records as NewRecord[]
}

function recordOf (message: unknown, field: string, problems: FieldProblem[]): NewRecord | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    problems.push({ field, message: 'a message is an object: { "body": …, "bodyType": "json" | "text" | "bytes", "key", "delayMs", "attributes" }' })
    return undefined
  }
  const m = message as Record<string, unknown>
  const bodyType = m.bodyType ?? 'json'
  if (typeof bodyType !== 'string' || !BODY_TYPES.has(bodyType)) {
    problems.push({ field: `${field}.bodyType`, message: `bodyType is "json", "text" or "bytes", got ${JSON.stringify(bodyType)}` })
    return undefined
  }
  const body = bodyOf(m.body, bodyType, `${field}.body`, problems)
  if (body === undefined) return undefined
  const record: NewRecord = { body }
  for (const name of ['key', 'source', 'type', 'subject', 'contentType'] as const) {
    const value = m[name]
    if (value === undefined) continue
    if (typeof value !== 'string') problems.push({ field: `${field}.${name}`, message: `${name} is a string` })
    else record[name] = value
  }
  if (m.delayMs !== undefined) {
    if (typeof m.delayMs !== 'number') problems.push({ field: `${field}.delayMs`, message: 'delayMs is a number of milliseconds' })
    else record.delayMs = m.delayMs
  }
  if (m.onDuplicate !== undefined) record.onDuplicate = m.onDuplicate as NewRecord['onDuplicate']
  if (m.attributes !== undefined) {
    if (typeof m.attributes !== 'object' || m.attributes === null || Array.isArray(m.attributes)) problems.push({ field: `${field}.attributes`, message: 'attributes is an object of strings' })
    else record.attributes = m.attributes as Record<string, string>
  }
  return record
}

function bodyOf (body: unknown, bodyType: string, field: string, problems: FieldProblem[]): unknown {
  if (body === undefined) {
    problems.push({ field, message: 'required: the message body' })
    return undefined
  }
  if (bodyType === 'json') return body
  if (typeof body !== 'string') {
    problems.push({ field, message: `a ${bodyType} body is a string${bodyType === 'bytes' ? ' (base64)' : ''}` })
    return undefined
  }
  if (bodyType === 'text') return body
  if (!BASE64.test(body)) {
    problems.push({ field, message: 'a bytes body is base64' })
    return undefined
  }
  return Buffer.from(body, 'base64')
}
