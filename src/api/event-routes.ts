import type { FastifyInstance } from 'fastify'
import type { Store, StoredEvent } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'
import type { RouteDeps } from './live-functions.js'
import { callerOf, checkedNamespace, intQuery } from './route-params.js'

// Events of a whole namespace, or of every namespace the token may see, as
// `kubectl get events` lists them: the newest `limit`, oldest first.

const PREFIX = '/apis/roost.dev/v1'
const DEFAULT_LIMIT = 100

export function registerEventRoutes (app: FastifyInstance, { store }: RouteDeps): void {
  app.get<{ Querystring: { limit?: string } }>(`${PREFIX}/events`, async (request) => {
    const caller = callerOf(request)
    const namespaces = caller.namespace === '*' ? undefined : [caller.namespace]
    return { items: eventsOf(store, namespaces, intQuery(request.query.limit, 'limit', DEFAULT_LIMIT)) }
  })

  app.get<{ Params: { namespace: string }, Querystring: { limit?: string } }>(`${PREFIX}/namespaces/:namespace/events`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    return { items: eventsOf(store, [namespace], intQuery(request.query.limit, 'limit', DEFAULT_LIMIT)) }
  })
}

function eventsOf (store: Store, namespaces: string[] | undefined, limit: number): StoredEvent[] {
  const functions = namespaces === undefined
    ? store.listResources<FunctionSpec>('Function')
    : namespaces.flatMap((namespace) => store.listResources<FunctionSpec>('Function', namespace))
  const events = functions.flatMap((fn) => store.listEvents({ namespace: fn.namespace, kind: 'Function', name: fn.name, limit }))
  return events.sort((a, b) => a.id - b.id).slice(-limit)
}
