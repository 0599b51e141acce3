import type { FastifyInstance, FastifyRequest } from 'fastify'
import { BadRequestError, NotFoundError, NotReadyError, ValidationError } from '../errors/index.js'
import {
  DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, nextFiring, parseCronSchedule, decodeBody,
  type DeadSelection, type EventStore, type QueueStats, type RecordView
} from '../events/index.js'
import { encodeBody, recordsOf } from '../invocations/index.js'
import type { Store } from '../store/index.js'
import type { BrokerQueues, BrokerTriggerState } from './broker-queues.js'
import type { FunctionSpec } from './function-schema.js'
import { DURATION_PATTERN } from './function-schema.js'
import { parseDuration } from './quantities.js'
import { callerOf, checkedNamespace, checkName, intQuery } from './route-params.js'
import { cronQueueName, cronTriggerName, resolveTriggers } from './trigger-limits.js'

// Queues as the API shows them: publishing (one message or a batch), the
// queues of a namespace with their numbers and consumer, the dead letters
// (list, replay, purge), and the triggers of the namespace's functions (each
// cron with its last and next firing). A queue exists once a function
// declares it in spec.triggers; a namespace token reaches its own only.

const PREFIX = '/apis/roost.dev/v1'
/** A publish request: up to 1000 messages of up to 256 KiB each, as JSON (base64 grows bytes by a third). */
const PUBLISH_BODY_LIMIT = 8 * 1024 * 1024
const DURATION = new RegExp(DURATION_PATTERN)

export interface QueueRouteDeps {
  store: Store
  /** The events database; absent (a store-only API, tests), every route answers 503. */
  events?: EventStore
  /** Records were published or replayed into the queue: the dispatcher delivers them now. */
  published?: (namespace: string, queue: string) => void
  /** The queues brokers hold: publishes and replays to them go to their broker. */
  brokers?: BrokerQueues
}

type QueueParams = { namespace: string, queue: string }

/** One queue as `roost get queues` lists it. */
export interface QueueItem {
  namespace: string
  name: string
  /** The function that consumes it; null for records of a queue no function declares any more. */
  consumer: string | null
  /** Ready messages, due or delayed. */
  depth: number
  leased: number
  /** depth + leased: what the autoscaler scales on. */
  backlog: number
  dead: number
  maxDepth: number | null
  /** Epoch ms; null if no message ever finished. */
  lastCompletedAt: number | null
  /** embedded, or the broker that holds it. */
  connector: string
}

/** One trigger as `roost get triggers` lists it. */
export interface TriggerItem {
  namespace: string
  function: string
  kind: 'queue' | 'cron'
  /** The queue's name, or the cron trigger's (`<function>.<index>`). */
  name: string
  /** The queue the trigger's events wait in (a cron trigger's internal one). */
  queue: string
  schedule: string | null
  timezone: string | null
  /** Epoch ms of the latest time fired; null if never. */
  lastFiring: number | null
  /** Epoch ms of the next time due; null for a queue. */
  nextFiring: number | null
  backlog: number
  /** A queue trigger's connector (embedded or its broker); null for cron. */
  connector: string | null
  /** A broker trigger's condition (Connected, Disconnected, Failed, Connecting) with why; null otherwise. */
  state: BrokerTriggerState | null
  reason: string | null
  message: string | null
  /** The broker's server as its connector named it; null until connected, and for the embedded queue. */
  server: string | null
}

export function registerQueueRoutes (app: FastifyInstance, deps: QueueRouteDeps): void {
  const { store } = deps
  const eventsOf = (): EventStore => {
    if (deps.events === undefined || !deps.events.isOpen) throw new NotReadyError('this API has no events database: queues are not kept here', { hint: 'run the API as part of `roost up`' })
    return deps.events
  }
  const declaredQueue = (namespace: string, queue: string): EventStore => {
    checkName(queue, 'queue')
    const events = eventsOf()
    if (events.queuePolicy(namespace, queue) === undefined) throw unknownQueue(namespace, queue)
    return events
  }

  app.post<{ Params: QueueParams, Body: unknown }>(`${PREFIX}/namespaces/:namespace/queues/:queue/messages`, { bodyLimit: PUBLISH_BODY_LIMIT }, async (request, reply) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const queue = request.params.queue
    if (deps.brokers?.status(namespace, queue) !== undefined) {
      const results = await deps.brokers.publishRecords(namespace, queue, recordsOf(messagesOf(request.body)))
      reply.code(201)
      return { results }
    }
    const events = declaredQueue(namespace, queue)
    const records = recordsOf(messagesOf(request.body))
    const results = events.publish(namespace, queue, records)
    if (results.some((r) => r.outcome !== 'duplicate')) deps.published?.(namespace, queue)
    reply.code(201)
    return { results }
  })

  app.get<{ Params: { namespace: string } }>(`${PREFIX}/namespaces/:namespace/queues`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    return { items: queueItems(store, eventsOf(), [namespace], deps.brokers) }
  })

  app.get(`${PREFIX}/queues`, async (request) => {
    const caller = callerOf(request)
    return { items: queueItems(store, eventsOf(), caller.namespace === '*' ? undefined : [caller.namespace], deps.brokers) }
  })

  app.get<{ Params: QueueParams, Querystring: { limit?: string, after?: string } }>(`${PREFIX}/namespaces/:namespace/queues/:queue/dead`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const { queue } = request.params
    checkName(queue, 'queue')
    const limit = intQuery(request.query.limit, 'limit', DEFAULT_LIST_LIMIT)
    if (limit > MAX_LIST_LIMIT) throw new ValidationError([{ field: 'limit', message: `at most ${MAX_LIST_LIMIT}` }])
    const records = eventsOf().listDead(namespace, queue, { afterSeq: intQuery(request.query.after, 'after', 0), limit })
    const last = records.at(-1)
    return { items: records.map(deadItem), next: records.length === limit && last !== undefined ? String(last.seq) : null }
  })

  app.post<{ Params: QueueParams, Body: unknown }>(`${PREFIX}/namespaces/:namespace/queues/:queue/dead/replay`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const { queue } = request.params
    if (deps.brokers?.status(namespace, queue) !== undefined) {
      checkName(queue, 'queue')
      const replayed = await replayToBroker(eventsOf(), deps.brokers, namespace, queue, selectionOf(request.body))
      return { result: 'replayed', namespace, queue, replayed }
    }
    const events = declaredQueue(namespace, queue)
    const replayed = events.replayDead(namespace, queue, selectionOf(request.body))
    if (replayed > 0) deps.published?.(namespace, queue)
    return { result: 'replayed', namespace, queue, replayed }
  })

  app.delete<{ Params: QueueParams, Querystring: { id?: string | string[], all?: string } }>(`${PREFIX}/namespaces/:namespace/queues/:queue/dead`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const { queue } = request.params
    checkName(queue, 'queue')
    const { id, all } = request.query
    const selection = selectionOf(all === 'true' || all === '1' ? { all: true } : id === undefined ? {} : { ids: Array.isArray(id) ? id : [id] })
    return { result: 'purged', namespace, queue, purged: eventsOf().purgeDead(namespace, queue, selection) }
  })

  app.get<{ Params: { namespace: string } }>(`${PREFIX}/namespaces/:namespace/triggers`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    return { items: triggerItems(store, eventsOf(), [namespace], deps.brokers) }
  })

  app.get(`${PREFIX}/triggers`, async (request: FastifyRequest) => {
    const caller = callerOf(request)
    return { items: triggerItems(store, eventsOf(), caller.namespace === '*' ? undefined : [caller.namespace], deps.brokers) }
  })
}

function unknownQueue (namespace: string, queue: string): NotFoundError {
  return new NotFoundError(`no queue ${queue} in namespace ${namespace}`, {
    field: 'queue',
    hint: 'a queue exists once a function declares it in spec.triggers: `- queue: { name: ... }`; `roost get queues` lists them'
  })
}

/** `{ messages: [ … ] }`, or one message as the body itself. A message's `delay` may be a duration ("5s") or ms. */
function messagesOf (body: unknown): unknown[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('the request body must be a JSON object: { "messages": [ { "body": … } ] } or one message { "body": … }', { hint: 'send Content-Type: application/json' })
  }
  const doc = body as Record<string, unknown>
  const messages = doc.messages !== undefined ? doc.messages : [doc]
  if (!Array.isArray(messages)) throw new ValidationError([{ field: 'messages', message: 'messages is a list of messages' }])
  const prefix = doc.messages !== undefined
  return messages.map((message: unknown, i) => withDelayMs(message, prefix ? `messages[${i}]` : ''))
}

function withDelayMs (message: unknown, field: string): unknown {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return message
  const { delay, ...rest } = message as Record<string, unknown>
  if (delay === undefined) return rest
  const at = field === '' ? 'delay' : `${field}.delay`
  if (typeof delay === 'number' && Number.isSafeInteger(delay) && delay >= 0) return { ...rest, delayMs: delay }
  if (typeof delay === 'string' && DURATION.test(delay)) return { ...rest, delayMs: parseDuration(delay) }
  throw new ValidationError([{ field: at, message: `expected a duration such as "5s" or a number of milliseconds, got ${JSON.stringify(delay)}` }])
}

function selectionOf (body: unknown): DeadSelection {
  const doc = (body ?? {}) as { ids?: unknown, all?: unknown }
  if (doc.all === true) return { all: true }
  if (Array.isArray(doc.ids) && doc.ids.length > 0 && doc.ids.every((id) => typeof id === 'string')) return { ids: doc.ids as string[] }
  throw new ValidationError([{ field: 'ids', message: 'name the dead messages: { "ids": ["…"] }, or { "all": true } for every one' }])
}

/** The declared queues of the namespaces (every one the store knows of when undefined), and those that only have records left. */
export function queueItems (store: Store, events: EventStore, namespaces: string[] | undefined, brokers?: BrokerQueues): QueueItem[] {
  const inScope = (namespace: string): boolean => namespaces === undefined || namespaces.includes(namespace)
  const items = new Map<string, QueueItem>()
  const add = (stats: QueueStats, consumer: string | null): void => {
    const broker = brokers?.status(stats.namespace, stats.queue)
    // A broker's queue: its numbers are the broker's, its dead messages Roost's copies.
    const waiting = broker === undefined ? stats.waiting : broker.backlog?.waiting ?? 0
    const leased = broker === undefined ? stats.leased : broker.backlog?.inFlight ?? 0
    items.set(`${stats.namespace}/${stats.queue}`, {
      namespace: stats.namespace,
      name: stats.queue,
      consumer,
      depth: waiting,
      leased,
      backlog: waiting + leased,
      dead: stats.dead,
      maxDepth: events.queuePolicy(stats.namespace, stats.queue)?.maxDepth ?? null,
      lastCompletedAt: stats.lastCompletedAt ?? null,
      connector: broker?.connector ?? 'embedded'
    })
  }
  const functions = store.listResources<FunctionSpec>('Function').filter((fn) => inScope(fn.namespace)).sort((a, b) => a.name.localeCompare(b.name))
  for (const fn of functions) {
    for (const q of resolveTriggers(fn.spec).queues) {
      if (!items.has(`${fn.namespace}/${q.queue}`)) add(events.stats(fn.namespace, q.queue), fn.name)
    }
  }
  // A queue nobody consumes any more keeps its records (dead ones above all) until they are purged.
  for (const stats of events.allStats()) {
    if (!inScope(stats.namespace) || items.has(`${stats.namespace}/${stats.queue}`) || stats.queue.includes('.')) continue
    if (stats.backlog + stats.dead > 0) add(stats, null)
  }
  return [...items.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
}

export function triggerItems (store: Store, events: EventStore, namespaces: string[] | undefined, brokers?: BrokerQueues): TriggerItem[] {
  const now = Date.now()
  const items: TriggerItem[] = []
  const functions = store.listResources<FunctionSpec>('Function')
    .filter((fn) => namespaces === undefined || namespaces.includes(fn.namespace))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
  for (const fn of functions) {
    const triggers = resolveTriggers(fn.spec)
    for (const q of triggers.queues) {
      const broker = q.broker === undefined ? undefined : brokers?.status(fn.namespace, q.queue)
      const backlog = broker === undefined ? events.stats(fn.namespace, q.queue).backlog : (broker.backlog?.waiting ?? 0) + (broker.backlog?.inFlight ?? 0)
      items.push({
        namespace: fn.namespace, function: fn.name, kind: 'queue', name: q.queue, queue: q.queue, schedule: null, timezone: null,
        lastFiring: null, nextFiring: null, backlog, connector: q.broker?.connector ?? 'embedded',
        // A broker trigger this platform does not run (yet): its trigger controller has not reached it.
        state: q.broker === undefined ? null : broker?.state ?? 'Connecting',
        reason: q.broker === undefined ? null : broker?.reason ?? 'Connecting',
        message: q.broker === undefined ? null : broker?.message ?? `connecting to ${q.broker.url}`,
        server: broker?.server ?? null
      })
    }
    for (const c of triggers.crons) {
      const trigger = cronTriggerName(fn.name, c.index)
      const queue = cronQueueName(fn.name, c.index)
      let next: number | undefined
      try {
        next = nextFiring(parseCronSchedule(c.schedule, c.timezone, { seed: `${fn.namespace}/${trigger}` }), now)
      } catch {
        next = undefined
      }
      items.push({
        namespace: fn.namespace, function: fn.name, kind: 'cron', name: trigger, queue, schedule: c.schedule, timezone: c.timezone,
        lastFiring: events.lastFiring(fn.namespace, trigger) ?? null, nextFiring: next ?? null, backlog: events.stats(fn.namespace, queue).backlog,
        connector: null, state: null, reason: null, message: null, server: null
      })
    }
  }
  return items
}

/**
 * Replays dead copies of a broker queue's messages: each is published to the
 * broker again (a new message id, so a broker that deduplicates takes it),
 * and its dead record goes once the broker has it.
 */
async function replayToBroker (events: EventStore, brokers: BrokerQueues, namespace: string, queue: string, selection: DeadSelection): Promise<number> {
  const dead = 'all' in selection
    ? events.listDead(namespace, queue, { limit: MAX_LIST_LIMIT })
    : selection.ids.map((id) => events.get(id)).filter((r): r is RecordView => r !== undefined && r.state === 'dead' && r.namespace === namespace && r.queue === queue)
  if (dead.length === 0) return 0
  const stamp = Date.now().toString(36)
  await brokers.publishRecords(namespace, queue, dead.map((record) => {
    const { deadid, ...attributes } = record.attributes
    return {
      id: `${deadid ?? record.id}.replay-${stamp}`, body: record.body, bodyType: record.bodyType, source: record.source, type: record.type,
      ...(record.subject === undefined ? {} : { subject: record.subject }), contentType: record.contentType, attributes
    }
  }))
  return events.purgeDead(namespace, queue, { ids: dead.map((r) => r.id) })
}

/** A dead message with its body (a JSON value, text, or base64 bytes), why it died and every attempt. */
function deadItem (record: RecordView): Record<string, unknown> {
  let body: unknown
  try {
    body = record.bodyType === 'bytes' ? Buffer.from(record.body).toString('base64') : decodeBody(record.body, record.bodyType)
  } catch {
    // JSON that no longer parses (it was stored parsed, so this is a damaged row): shown as the bytes it is.
    body = encodeBody(record.body).body
  }
  return {
    id: record.id,
    queue: record.queue,
    body,
    bodyType: record.bodyType,
    attributes: record.attributes,
    key: record.key ?? null,
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    reason: record.deadReason ?? null,
    createdAt: record.createdAt,
    finishedAt: record.finishedAt ?? null,
    history: record.history.map((a) => ({ ...a, consumer: a.consumer ?? null, initMs: a.initMs ?? null, status: a.status ?? null, error: a.error ?? null }))
  }
}
