import type { FastifyInstance } from 'fastify'
import { BadRequestError, ConflictError, NotFoundError } from '../errors/index.js'
import type { Store, StoredResource } from '../store/index.js'
import { requireAdmin, type Caller } from './auth.js'
import { API_KEY_KIND } from './caller-auth.js'
import type { FunctionSpec } from './function-schema.js'
import type { RouteDeps } from './live-functions.js'
import { booleanQuery, callerOf, checkName, checkedNamespace } from './route-params.js'
import { listRules } from './rule-store.js'

// Namespaces as objects. One exists once it is created, or once a function or
// a governance rule is applied into it (so applying into a new namespace keeps
// working), until its last such object is deleted; `default` always exists.
// They are stored as resources of kind Namespace, cluster-wide (namespace '').
// Deleting one takes its tokens, secrets and API keys with it, so that a
// namespace created again later under the same name does not inherit old credentials.

const PREFIX = '/apis/roost.dev/v1'
export const NAMESPACE_KIND = 'Namespace'
export const DEFAULT_NAMESPACE = 'default'

type NamespaceParams = { namespace: string }

export interface NamespaceView {
  apiVersion: 'roost.dev/v1'
  kind: 'Namespace'
  metadata: { name: string, labels: Record<string, string>, creationTimestamp: string | null }
  status: { phase: 'Active', functions: number, rules: number, tokens: number }
}

export function registerNamespaceRoutes (app: FastifyInstance, { store }: RouteDeps): void {
  app.get(`${PREFIX}/namespaces`, async (request) => {
    const caller = callerOf(request)
    return { items: listNamespaces(store).filter((ns) => caller.namespace === '*' || ns.metadata.name === caller.namespace) }
  })

  app.get<{ Params: NamespaceParams }>(`${PREFIX}/namespaces/:namespace`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const found = listNamespaces(store).find((ns) => ns.metadata.name === namespace)
    if (found === undefined) throw notFound(namespace)
    return found
  })

  app.post<{ Body: { metadata?: { name?: unknown, labels?: unknown } } }>(`${PREFIX}/namespaces`, async (request, reply) => {
    requireAdmin(callerOf(request))
    const { name, labels } = namespaceBody(request.body)
    store.transaction(() => {
      if (store.getResource(NAMESPACE_KIND, '', name) !== undefined || name === DEFAULT_NAMESPACE) {
        throw new ConflictError(`namespace ${name} already exists`, { field: 'metadata.name', hint: '`roost get namespaces` lists them' })
      }
      store.putResource(NAMESPACE_KIND, '', name, { spec: {}, labels }, { expectedResourceVersion: 0 })
    })
    reply.code(201)
    return viewOf(store, name)
  })

  app.delete<{ Params: NamespaceParams, Querystring: { cascade?: string } }>(`${PREFIX}/namespaces/:namespace`, async (request) => {
    const caller = callerOf(request)
    requireAdmin(caller)
    const namespace = checkedNamespace(request, request.params.namespace)
    const cascade = booleanQuery(request.query.cascade, 'cascade')
    return deleteNamespace(store, caller, namespace, cascade)
  })
}

function deleteNamespace (store: Store, caller: Caller, namespace: string, cascade: boolean): unknown {
  if (namespace === DEFAULT_NAMESPACE) throw new BadRequestError('namespace default cannot be deleted', { hint: 'delete its functions one by one with `roost delete function NAME`' })
  return store.transaction(() => {
    const functions = store.listResources<FunctionSpec>('Function', namespace)
    const rules = listRules(store, namespace)
    const explicit = store.getResource(NAMESPACE_KIND, '', namespace) !== undefined
    if (!explicit && functions.length === 0 && rules.length === 0) throw notFound(namespace)
    if ((functions.length > 0 || rules.length > 0) && !cascade) {
      const held = [
        ...(functions.length > 0 ? [`${functions.length} function(s): ${functions.map((fn) => fn.name).join(', ')}`] : []),
        ...(rules.length > 0 ? [`${rules.length} rule(s): ${rules.map((r) => `${r.kind}/${r.name}`).join(', ')}`] : [])
      ]
      throw new ConflictError(`namespace ${namespace} holds ${held.join(' and ')}`, {
        hint: `delete them first, or delete the namespace with them: \`roost delete namespace ${namespace} --force\``
      })
    }
    for (const rule of rules) store.deleteResource(rule.kind, namespace, rule.name)
    for (const fn of functions) {
      store.deleteResource('Function', namespace, fn.name)
      store.deleteVersions(namespace, fn.name)
      store.deleteLogs(namespace, fn.name)
    }
    // its secrets and API keys go with it: a namespace made again under the name must not find old values or keys
    for (const kind of ['Secret', API_KEY_KIND]) for (const object of store.listResources(kind, namespace)) store.deleteResource(kind, namespace, object.name)
    const tokens = store.listTokens().filter((token) => token.namespace === namespace && token.id !== caller.tokenId)
    for (const token of tokens) store.deleteToken(token.id)
    if (explicit) store.deleteResource(NAMESPACE_KIND, '', namespace)
    return { result: 'deleted', name: namespace, functions: functions.map((fn) => fn.name), rules: rules.map((r) => `${r.kind}/${r.name}`), tokens: tokens.length }
  })
}

/** Every namespace: the created ones, those that hold functions or rules, and default. */
export function listNamespaces (store: Store): NamespaceView[] {
  const objects = new Map(store.listResources(NAMESPACE_KIND, '').map((ns) => [ns.name, ns]))
  const functions = new Map<string, Array<StoredResource<FunctionSpec>>>()
  for (const fn of store.listResources<FunctionSpec>('Function')) functions.set(fn.namespace, [...(functions.get(fn.namespace) ?? []), fn])
  const rules = new Map<string, StoredResource[]>()
  for (const rule of listRules(store)) rules.set(rule.namespace, [...(rules.get(rule.namespace) ?? []), rule])
  const tokens = store.listTokens()
  const names = [...new Set([DEFAULT_NAMESPACE, ...objects.keys(), ...functions.keys(), ...rules.keys()])].sort()
  return names.map((name) => {
    const object = objects.get(name)
    const own = functions.get(name) ?? []
    const ownRules = rules.get(name) ?? []
    const held = [...own, ...ownRules]
    const created = object?.createdAt ?? (held.length > 0 ? held.map((r) => r.createdAt).sort()[0] : tokens.find((t) => t.namespace === '*')?.createdAt)
    return {
      apiVersion: 'roost.dev/v1',
      kind: 'Namespace',
      metadata: { name, labels: object?.labels ?? {}, creationTimestamp: created ?? null },
      status: { phase: 'Active', functions: own.length, rules: ownRules.length, tokens: tokens.filter((t) => t.namespace === name).length }
    }
  })
}

function viewOf (store: Store, name: string): NamespaceView {
  return listNamespaces(store).find((ns) => ns.metadata.name === name) as NamespaceView
}

function namespaceBody (body: unknown): { name: string, labels: Record<string, string> } {
  const metadata = (body as { metadata?: { name?: unknown, labels?: unknown } } | undefined)?.metadata
  if (metadata === undefined || typeof metadata.name !== 'string') {
    throw new BadRequestError('the body must be { "metadata": { "name": NAME, "labels"?: {…} } }', { hint: 'e.g. `roost create namespace team-a`' })
  }
  checkName(metadata.name, 'metadata.name')
  const labels = metadata.labels ?? {}
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
    throw new BadRequestError('metadata.labels must be an object of strings', { hint: 'e.g. { "team": "a" }' })
  }
  return { name: metadata.name, labels: labels as Record<string, string> }
}

function notFound (namespace: string): NotFoundError {
  return new NotFoundError(`namespace ${namespace} not found`, { hint: '`roost get namespaces` lists them' })
}
