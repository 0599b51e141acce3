import type { FastifyInstance } from 'fastify'
import { ConflictError, NotFoundError, NotReadyError, ValidationError } from '../errors/index.js'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, invocationView, type EventStore, type InvocationStatus, type RecordState, type RecordView } from '../events/index.js'
import { asyncQueueName, encodeBody, functionOfAsyncQueue, readStoredRequest } from '../invocations/index.js'
import type { LogLine, Store } from '../store/index.js'
import { checkedNamespace, checkName, intQuery } from './route-params.js'

// Async invocations (`POST /async/fn/NAME` on the gateway) as the API shows
// them: one with its attempts, timings, response and logs; the list of a
// function's; and cancelling one that has not run. A record of another
// namespace, or of another kind, is answered as not found: a namespace token
// learns nothing of the rest.

const PREFIX = '/apis/roost.dev/v1'
/** Log lines shown with an invocation: its attempts' own. */
const INVOCATION_LOG_LINES = 200
/** The status names of `?status=`, by the record state they are kept in. */
const STATE_OF: Record<InvocationStatus, RecordState> = {
  queued: 'ready', retrying: 'ready', running: 'leased', succeeded: 'succeeded', failed: 'dead', expired: 'dead', cancelled: 'cancelled'
}

export interface InvocationRouteDeps {
  store: Store
  /** The events database; absent (a store-only API, tests), every route answers 503. */
  events?: EventStore
}

type IdParams = { namespace: string, id: string }
type FunctionParams = { namespace: string, name: string }

export function registerInvocationRoutes (app: FastifyInstance, { store, events }: InvocationRouteDeps): void {
  const eventsOf = (): EventStore => {
    if (events === undefined || !events.isOpen) throw new NotReadyError('this API has no events database: async invocations are not kept here', { hint: 'run the API as part of `roost up`' })
    return events
  }
  const mustGet = (namespace: string, id: string): RecordView => {
    const record = eventsOf().get(id)
    if (record === undefined || record.kind !== 'invocation' || record.namespace !== namespace) {
      throw new NotFoundError(`invocation ${id} not found in namespace ${namespace}`, { hint: '`roost invocations list FUNCTION` lists the recent ones; finished ones are kept for 24 h' })
    }
    return record
  }

  app.get<{ Params: IdParams }>(`${PREFIX}/namespaces/:namespace/invocations/:id`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const record = mustGet(namespace, request.params.id)
    const fn = functionOfAsyncQueue(record.queue) ?? record.queue
    const history = record.history.map((a) => ({ ...a, consumer: a.consumer ?? null, initMs: a.initMs ?? null, status: a.status ?? null, error: a.error ?? null }))
    return { ...invocationItem(record), history, logs: logsOf(store, namespace, fn, record.id) }
  })

  app.delete<{ Params: IdParams }>(`${PREFIX}/namespaces/:namespace/invocations/:id`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const record = mustGet(namespace, request.params.id)
    const outcome = eventsOf().cancel(record.id)
    if (outcome === 'cancelled') return { result: 'cancelled', id: record.id, namespace }
    if (outcome === 'not-found') throw new NotFoundError(`invocation ${record.id} not found in namespace ${namespace}`)
    const status = invocationView(eventsOf().get(record.id) ?? record).status
    throw new ConflictError(`invocation ${record.id} is ${status}: only one that has not started can be cancelled`, {
      hint: outcome === 'running' ? 'it runs to its end; `roost invocations get ID` shows how it ended' : 'it has finished; `roost invocations get ID` shows its result'
    })
  })

  app.get<{ Params: FunctionParams, Querystring: { status?: string, limit?: string, after?: string } }>(`${PREFIX}/namespaces/:namespace/functions/:name/invocations`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    checkName(request.params.name, 'name')
    const { status, limit, after } = request.query
    if (status !== undefined && !(status in STATE_OF)) {
      throw new ValidationError([{ field: 'status', message: `expected one of ${Object.keys(STATE_OF).join(', ')}, got "${status}"` }])
    }
    const max = intQuery(limit, 'limit', DEFAULT_LIST_LIMIT)
    if (max > MAX_LIST_LIMIT) throw new ValidationError([{ field: 'limit', message: `at most ${MAX_LIST_LIMIT}` }])
    const records = eventsOf().list(namespace, asyncQueueName(request.params.name), {
      state: status === undefined ? undefined : STATE_OF[status as InvocationStatus],
      afterSeq: intQuery(after, 'after', 0),
      limit: max
    })
    const items = records.map(invocationItem).filter((item) => status === undefined || item.status === status)
    // The cursor of the next page: the last record read, whether or not the status filter kept it.
    const last = records.at(-1)
    return { items, next: records.length === max && last !== undefined ? String(last.seq) : null }
  })
}

/** An invocation as listed: the record's view with its request and response, bodies as text or base64. */
export function invocationItem (record: RecordView): Record<string, unknown> & { status: InvocationStatus } {
  const view = invocationView(record)
  const stored = readStoredRequest(record.body)
  const response = record.response
  return {
    id: record.id,
    namespace: record.namespace,
    function: functionOfAsyncQueue(record.queue) ?? record.queue,
    status: view.status,
    attempts: view.attempts,
    maxAttempts: view.maxAttempts,
    createdAt: view.createdAt,
    startedAt: view.startedAt ?? null,
    finishedAt: view.finishedAt ?? null,
    timings: { waitedMs: view.timings.waitedMs ?? null, coldStartMs: view.timings.coldStartMs ?? null, ranMs: view.timings.ranMs ?? null },
    reason: view.reason ?? null,
    request: stored === undefined
      ? null
      : { method: stored.method, path: stored.path, callbackUrl: stored.callbackUrl, caller: stored.caller, requestId: stored.requestId, bodyBytes: Buffer.byteLength(stored.body, 'base64') },
    response: response === undefined ? null : { status: response.status, headers: response.headers, ...encodeBody(response.body), truncated: response.truncated }
  }
}

function logsOf (store: Store, namespace: string, fn: string, id: string): LogLine[] {
  return store.queryLogs({ namespace, function: fn, requestId: id, limit: INVOCATION_LOG_LINES })
}
