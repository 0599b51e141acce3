import type { FastifyInstance, FastifyRequest } from 'fastify'
import { NotFoundError, ValidationError } from '../errors/index.js'
import { generateApiKey, isApiKeyId } from '../governance/index.js'
import type { Store, StoredResource } from '../store/index.js'
import { API_KEY_KIND, type ApiKeySpec } from './caller-auth.js'
import type { FunctionSpec } from './function-schema.js'
import type { RouteDeps } from './live-functions.js'
import { callerOf, checkName, checkedNamespace } from './route-params.js'

// API keys of functions (`spec.http.auth: key`). A key is shown once, in the
// answer that creates it; the store keeps its SHA-256 only (a resource of kind
// ApiKey named by the key's id, in the function's namespace), so a copy of the
// database lets nobody call anything. Every change is a store write, so the
// control plane's watch carries it to the gateway as any other change. A
// namespace token sees and manages the keys of its namespace only; a key of
// another namespace is reported as absent. A create or revoke is answered once
// the gateway has the new keys, so a revoked key is refused from the answer on.

const PREFIX = '/apis/roost.dev/v1'
const EXPIRES_PATTERN = /^([0-9]{1,7})(m|h|d)$/
const EXPIRES_UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 }
const MAX_EXPIRES_MS = 3650 * 86_400_000
const MAX_NAME_LENGTH = 100
const NAME_CHARS = /^[^\p{Cc}]+$/u

type NamespaceParams = { namespace: string }
type FunctionParams = { namespace: string, name: string }

export interface ApiKeyView {
  id: string
  namespace: string
  function: string
  name: string | null
  createdAt: string
  expiresAt: string | null
  expired: boolean
}

export function registerKeyRoutes (app: FastifyInstance, { store, live }: RouteDeps): void {
  app.get(`${PREFIX}/keys`, async (request) => {
    const caller = callerOf(request)
    return { items: listKeys(store, caller.namespace === '*' ? undefined : caller.namespace) }
  })

  app.get<{ Params: NamespaceParams, Querystring: { function?: string } }>(`${PREFIX}/namespaces/:namespace/keys`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const fn = request.query.function
    return { items: listKeys(store, namespace).filter((key) => fn === undefined || key.function === fn) }
  })

  app.get<{ Params: FunctionParams }>(`${PREFIX}/namespaces/:namespace/functions/:name/keys`, async (request) => {
    const { namespace, name } = functionParams(request)
    mustGetFunction(store, namespace, name)
    return { items: listKeys(store, namespace).filter((key) => key.function === name) }
  })

  app.post<{ Params: FunctionParams, Body: unknown }>(`${PREFIX}/namespaces/:namespace/functions/:name/keys`, async (request, reply) => {
    const { namespace, name } = functionParams(request)
    const body = createBody(request.body)
    const now = Date.now()
    const answer = store.transaction(() => {
      const fn = mustGetFunction(store, namespace, name)
      const { id, key, sha256 } = uniqueKey(store, namespace)
      const spec: ApiKeySpec = { function: name, sha256 }
      if (body.name !== undefined) spec.name = body.name
      if (body.expiresInMs !== undefined) spec.expiresAt = new Date(now + body.expiresInMs).toISOString()
      const stored = store.putResource<ApiKeySpec>(API_KEY_KIND, namespace, id, { spec, labels: {} }, { expectedResourceVersion: 0 }).resource
      const warnings = fn.spec.http.auth === 'key'
        ? []
        : [`function ${name} does not ask for keys yet (its spec.http.auth is ${modeOf(fn.spec)}): set spec.http.auth: key and apply it`]
      return { ...viewOf(stored, now), key, warnings }
    })
    await live.settle?.()
    reply.code(201)
    return answer
  })

  app.delete<{ Params: NamespaceParams & { id: string } }>(`${PREFIX}/namespaces/:namespace/keys/:id`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const answer = revoke(store, request.params.id, namespace)
    await live.settle?.()
    return answer
  })

  app.delete<{ Params: { id: string } }>(`${PREFIX}/keys/:id`, async (request) => {
    const caller = callerOf(request)
    const answer = revoke(store, request.params.id, caller.namespace === '*' ? undefined : caller.namespace)
    await live.settle?.()
    return answer
  })
}

/** The keys of one namespace, or of all; newest last. */
export function listKeys (store: Store, namespace: string | undefined): ApiKeyView[] {
  const now = Date.now()
  return store.listResources<ApiKeySpec>(API_KEY_KIND, namespace)
    .map((key) => viewOf(key, now))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
}

/** Deletes the keys of a function, with it (a function made again under the name starts without keys). */
export function deleteKeysOf (store: Store, namespace: string, fn: string): number {
  let deleted = 0
  for (const key of store.listResources<ApiKeySpec>(API_KEY_KIND, namespace)) {
    if (key.spec.function === fn && store.deleteResource(API_KEY_KIND, namespace, key.name)) deleted++
  }
  return deleted
}

function revoke (store: Store, id: string, namespace: string | undefined): unknown {
  return store.transaction(() => {
    const key = isApiKeyId(id) ? store.listResources<ApiKeySpec>(API_KEY_KIND, namespace).find((k) => k.name === id) : undefined
    if (key === undefined) throw new NotFoundError(`API key ${id} not found`, { hint: '`roost key list` shows the ids of the keys you may see' })
    store.deleteResource(API_KEY_KIND, key.namespace, key.name)
    return { result: 'revoked', id, namespace: key.namespace, function: key.spec.function }
  })
}

function viewOf (key: StoredResource<ApiKeySpec>, now: number): ApiKeyView {
  const expiresAt = key.spec.expiresAt ?? null
  return {
    id: key.name,
    namespace: key.namespace,
    function: key.spec.function,
    name: key.spec.name ?? null,
    createdAt: key.createdAt,
    expiresAt,
    expired: expiresAt !== null && Date.parse(expiresAt) <= now
  }
}

/** A new key whose id no stored key has (48 random bits: a clash is rare, never silent). */
function uniqueKey (store: Store, namespace: string): ReturnType<typeof generateApiKey> {
  for (;;) {
    const generated = generateApiKey()
    if (store.getResource(API_KEY_KIND, namespace, generated.id) === undefined) return generated
  }
}

function modeOf (spec: FunctionSpec): string {
  return typeof spec.http.auth === 'string' ? spec.http.auth : spec.http.auth.mode
}

function mustGetFunction (store: Store, namespace: string, name: string): StoredResource<FunctionSpec> {
  const fn = store.getResource<FunctionSpec>('Function', namespace, name)
  if (fn === undefined) throw new NotFoundError(`function ${name} not found in namespace ${namespace}`, { hint: '`roost get functions` lists what exists' })
  return fn
}

function functionParams (request: FastifyRequest<{ Params: FunctionParams }>): FunctionParams {
  const { namespace, name } = request.params
  checkedNamespace(request, namespace)
  checkName(name, 'name')
  return { namespace, name }
}

/** `{ name?, expires? }`: a label, and a lifetime such as "30d", "12h" or "90m". */
function createBody (body: unknown): { name?: string, expiresInMs?: number } {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError([{ field: '', message: 'the body is { "name"?: TEXT, "expires"?: "30d" }' }])
  const { name, expires, ...rest } = body as Record<string, unknown>
  const problems = Object.keys(rest).map((field) => ({ field, message: 'unknown field; the body is { "name"?: TEXT, "expires"?: "30d" }' }))
  const parsed: { name?: string, expiresInMs?: number } = {}
  if (name !== undefined) {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME_CHARS.test(name)) {
      problems.push({ field: 'name', message: `expected a label of 1 to ${MAX_NAME_LENGTH} characters without control characters` })
    } else parsed.name = name
  }
  if (expires !== undefined) {
    const match = typeof expires === 'string' ? EXPIRES_PATTERN.exec(expires) : null
    const ms = match === null ? NaN : Number(match[1]) * (EXPIRES_UNIT_MS[match[2] as string] as number)
    if (!(ms >= EXPIRES_UNIT_MS.m) || ms > MAX_EXPIRES_MS) {
      problems.push({ field: 'expires', message: `expected a lifetime from 1m to 3650d in minutes, hours or days, such as "30d", "12h" or "90m", got ${JSON.stringify(expires)}` })
    } else parsed.expiresInMs = ms
  }
  if (problems.length > 0) throw new ValidationError(problems)
  return parsed
}
