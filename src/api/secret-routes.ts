import type { FastifyInstance, FastifyRequest } from 'fastify'
import { BadRequestError, ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../errors/index.js'
import type { Store, StoredResource } from '../store/index.js'
import { ENV_NAME_PATTERN, type FunctionSpec } from './function-schema.js'
import { versionFor } from './function-version.js'
import type { RouteDeps } from './live-functions.js'
import { callerOf, checkName, checkedNamespace } from './route-params.js'
import { authReferenceProblems, authSecretNamesOf } from './caller-auth.js'
import { SECRET_KIND, secretNamesOf, storeSecrets, type SecretSpec } from './secret-refs.js'

// Secrets of a namespace. Their values go in and never come out: every answer
// shows names and keys only, to the admin too. The store seals the values as it
// seals env values. Changing a secret makes, in the same transaction, a new
// version of every function that uses it, so the usual rollout carries the new
// values; a secret that a function uses cannot be deleted. A function's auth
// (signing secrets, HS256 keys) reads its secrets when the gateway's policy is
// compiled, so a change reaches the gateway without a new version.

const PREFIX = '/apis/roost.dev/v1'
const MAX_KEYS = 100
const MAX_VALUE_BYTES = 64 * 1024
const ENV_NAME = new RegExp(ENV_NAME_PATTERN)

type NamespaceParams = { namespace: string }
type SecretParams = { namespace: string, name: string }

export interface SecretView {
  apiVersion: 'roost.dev/v1'
  kind: 'Secret'
  metadata: { name: string, namespace: string, resourceVersion: number, creationTimestamp: string }
  keys: string[]
  /** The functions whose env refers to it. */
  usedBy: string[]
}

export function registerSecretRoutes (app: FastifyInstance, { store, live }: RouteDeps): void {
  app.get(`${PREFIX}/secrets`, async (request) => {
    const caller = callerOf(request)
    const namespace = caller.namespace === '*' ? undefined : caller.namespace
    return { items: store.listResources<SecretSpec>(SECRET_KIND, namespace).map((secret) => viewOf(store, secret)) }
  })

  app.get<{ Params: NamespaceParams }>(`${PREFIX}/namespaces/:namespace/secrets`, async (request) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    return { items: store.listResources<SecretSpec>(SECRET_KIND, namespace).map((secret) => viewOf(store, secret)) }
  })

  app.get<{ Params: SecretParams }>(`${PREFIX}/namespaces/:namespace/secrets/:name`, async (request) => {
    const { namespace, name } = secretParams(request)
    return viewOf(store, mustGet(store, namespace, name))
  })

  app.post<{ Params: NamespaceParams, Body: unknown }>(`${PREFIX}/namespaces/:namespace/secrets`, async (request, reply) => {
    const namespace = checkedNamespace(request, request.params.namespace)
    const name = nameOf(request.body)
    const data = dataOf(request.body)
    const secret = store.transaction(() => {
      if (store.getResource(SECRET_KIND, namespace, name) !== undefined) {
        throw new ConflictError(`secret ${name} already exists in namespace ${namespace}`, { field: 'metadata.name', hint: `replace its values with \`roost secret create ${name} --overwrite ...\`` })
      }
      return store.putResource<SecretSpec>(SECRET_KIND, namespace, name, { spec: { data }, labels: {} }, { expectedResourceVersion: 0 }).resource
    })
    reply.code(201)
    return { result: 'created', secret: viewOf(store, secret), rolled: [] }
  })

  app.put<{ Params: SecretParams, Body: unknown }>(`${PREFIX}/namespaces/:namespace/secrets/:name`, async (request, reply) => {
    const { namespace, name } = secretParams(request)
    const data = dataOf(request.body)
    const answer = store.transaction(() => {
      const put = store.putResource<SecretSpec>(SECRET_KIND, namespace, name, { spec: { data }, labels: {} })
      const rolled = put.changed && !put.created ? rollUsers(store, namespace, name, put.resource.resourceVersion) : []
      return { result: put.created ? 'created' : put.changed ? 'configured' : 'unchanged', secret: viewOf(store, put.resource), rolled }
    })
    // A function's signing secrets come from it: a rotation is in force at the gateway once answered.
    await live.settle?.()
    reply.code(answer.result === 'created' ? 201 : 200)
    return answer
  })

  app.delete<{ Params: SecretParams }>(`${PREFIX}/namespaces/:namespace/secrets/:name`, async (request) => {
    const { namespace, name } = secretParams(request)
    return store.transaction(() => {
      mustGet(store, namespace, name)
      const users = usersOf(store, namespace, name).map((fn) => fn.name)
      if (users.length > 0) {
        throw new ConflictError(`secret ${name} is used by function(s) ${users.join(', ')} in namespace ${namespace}`, {
          hint: 'remove the references from their spec.env, spec.envFrom and spec.http.auth (and apply them) first'
        })
      }
      store.deleteResource(SECRET_KIND, namespace, name)
      return { result: 'deleted', name, namespace }
    })
  })
}

/** Makes a new version of every function that uses the secret; runs inside the secret's write. */
function rollUsers (store: Store, namespace: string, name: string, resourceVersion: number): Array<{ function: string, version: number }> {
  const rolled = []
  for (const fn of usersOf(store, namespace, name)) {
    // auth reads the secret when the gateway's policy is compiled, not into a version: only check it still fits
    const broken = authReferenceProblems(fn.spec, storeSecrets(store, namespace))
    if (broken.length > 0) {
      throw new ConflictError(`function ${fn.name} authenticates callers with secret ${name}, which this change would break: ${broken[0].message}`, {
        field: 'data',
        hint: `keep the key and its whsec_ value, or change spec.http.auth of function ${fn.name} first`
      })
    }
    const latest = store.latestVersion(namespace, fn.name)
    if (latest === undefined) continue
    let made
    try {
      made = versionFor(store, namespace, fn.name, fn.spec, latest.bundleHash)
    } catch (err) {
      // a key the function needs is gone: refuse the change rather than break the function
      if (!(err instanceof ValidationError)) throw err
      const missing = err.errors.filter((p) => p.message.includes(`secret ${name} `)).map((p) => p.field)
      throw new ConflictError(`function ${fn.name} uses ${missing.join(', ')}, which this change of secret ${name} would remove`, {
        field: 'data',
        hint: `keep the key, or change function ${fn.name} first`
      })
    }
    if (!made.created) continue
    store.recordEvent({ namespace, kind: 'Function', name: fn.name, type: 'Normal', reason: 'SecretChanged', message: `secret ${name} changed (resourceVersion ${resourceVersion}): v${made.version.number} created` })
    rolled.push({ function: fn.name, version: made.version.number })
  }
  return rolled
}

/** The functions whose env or auth (signing secrets, HS256 keys) refers to the secret. */
function usersOf (store: Store, namespace: string, name: string): Array<StoredResource<FunctionSpec>> {
  return store.listResources<FunctionSpec>('Function', namespace).filter((fn) => secretNamesOf(fn.spec).includes(name) || authSecretNamesOf(fn.spec).includes(name))
}

function viewOf (store: Store, secret: StoredResource<SecretSpec>): SecretView {
  return {
    apiVersion: 'roost.dev/v1',
    kind: 'Secret',
    metadata: { name: secret.name, namespace: secret.namespace, resourceVersion: secret.resourceVersion, creationTimestamp: secret.createdAt },
    keys: Object.keys(secret.spec.data).sort(),
    usedBy: usersOf(store, secret.namespace, secret.name).map((fn) => fn.name)
  }
}

function mustGet (store: Store, namespace: string, name: string): StoredResource<SecretSpec> {
  const found = store.getResource<SecretSpec>(SECRET_KIND, namespace, name)
  if (found === undefined) throw new NotFoundError(`secret ${name} not found in namespace ${namespace}`, { hint: '`roost secret list` lists them' })
  return found
}

function secretParams (request: FastifyRequest<{ Params: SecretParams }>): SecretParams {
  const { namespace, name } = request.params
  checkedNamespace(request, namespace)
  checkName(name, 'name')
  return { namespace, name }
}

function nameOf (body: unknown): string {
  const name = (body as { metadata?: { name?: unknown } } | null | undefined)?.metadata?.name
  if (typeof name !== 'string') throw new ValidationError([{ field: 'metadata.name', message: 'required: the body is { "metadata": { "name": NAME }, "data": { KEY: VALUE } }' }])
  checkName(name, 'metadata.name')
  return name
}

/** The `data` of a body: variable-like keys and string values, at least one. */
export function dataOf (body: unknown): Record<string, string> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('the request body must be a JSON object', { hint: 'send { "data": { "KEY": "VALUE" } } with Content-Type: application/json' })
  }
  const data = (body as { data?: unknown }).data
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ValidationError([{ field: 'data', message: 'required: an object of KEY: "value" strings' }])
  const keys = Object.keys(data)
  const problems: FieldProblem[] = []
  if (keys.length === 0) problems.push({ field: 'data', message: 'a secret holds at least one key' })
  if (keys.length > MAX_KEYS) problems.push({ field: 'data', message: `a secret holds at most ${MAX_KEYS} keys, got ${keys.length}` })
  const clean: Record<string, string> = {}
  for (const key of keys) {
    const value = (data as Record<string, unknown>)[key]
    const field = `data.${key}`
    if (!ENV_NAME.test(key)) problems.push({ field, message: `${JSON.stringify(key)} is not a valid key: use letters, digits and "_", not starting with a digit (keys become environment variables)` })
    else if (key.startsWith('ROOST_')) problems.push({ field, message: 'keys starting with ROOST_ are reserved for the platform' })
    if (typeof value !== 'string') problems.push({ field, message: `expected a string, got ${value === null ? 'null' : typeof value}` })
    else if (Buffer.byteLength(value) > MAX_VALUE_BYTES) problems.push({ field, message: `a value is at most ${MAX_VALUE_BYTES} bytes` })
    else Object.defineProperty(clean, key, { value, enumerable: true, writable: true, configurable: true })
  }
  if (problems.length > 0) throw new ValidationError(problems)
  return clean
}
