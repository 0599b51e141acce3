// The API-key routes in process (fastify inject): shown once, stored hashed,
// confined to the token's namespace, gone with their function or namespace, and
// what the control plane compiles from them lets the key in at the gateway.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createApiServer, type ApiServerOptions } from '../../src/api/index.js'
import { apiKeyRecordsOf, callerAuthOf } from '../../src/api/caller-auth.js'
import { validateFunction } from '../../src/api/validate.js'
import { CallerAuthenticator, emptyAuthFacts, hashApiKey } from '../../src/governance/index.js'
import { Store } from '../../src/store/index.js'

const V1 = '/apis/roost.dev/v1'
const live: ApiServerOptions['live'] = { instances: () => [], serving: () => undefined, scaling: () => undefined, metrics: async () => '', onLogs: () => () => {} }

let dir: string
let store: Store
let app: FastifyInstance
let admin: string
let teamA: string

function putFunction (namespace: string, name: string, auth: unknown = 'key'): void {
  const { spec, metadata } = validateFunction({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name, namespace }, spec: { source: { inline: 'export default () => new Response()' }, http: { auth } } })
  store.putResource('Function', namespace, name, { spec, labels: metadata.labels })
}

async function call (method: 'GET' | 'POST' | 'DELETE', url: string, token = admin, body?: unknown): Promise<{ status: number, json: any, headers: Record<string, unknown> }> {
  const response = await app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, payload: body === undefined ? undefined : JSON.stringify(body) })
  return { status: response.statusCode, json: response.json(), headers: response.headers }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roost-keys-'))
  store = Store.open(dir)
  admin = store.createToken({ namespace: '*' }).token
  teamA = store.createToken({ namespace: 'team-a' }).token
  app = await createApiServer({ store, live })
  putFunction('default', 'orders')
  putFunction('team-a', 'billing')
  putFunction('team-a', 'open', 'none')
})

after(async () => {
  await app.close()
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

test('create answers 201 with the key once; list shows its id and never the key or its hash', async () => {
  const created = await call('POST', `${V1}/namespaces/default/functions/orders/keys`, admin, { name: 'ci', expires: '30d' })
  assert.equal(created.status, 201)
  const { key, id, expiresAt, createdAt } = created.json
  assert.match(key, /^rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
  assert.equal(id, key.slice(0, 15))
  assert.equal(Date.parse(expiresAt) - Date.parse(createdAt) >= 30 * 86_400_000 - 1000, true)
  assert.deepEqual(created.json.warnings, [])
  const listed = await call('GET', `${V1}/namespaces/default/functions/orders/keys`)
  assert.deepEqual(listed.json.items, [{ id, namespace: 'default', function: 'orders', name: 'ci', createdAt, expiresAt, expired: false }])
  const text = JSON.stringify((await call('GET', `${V1}/keys`)).json)
  assert.equal(text.includes(key.slice(16)), false, 'the secret part is shown')
  assert.equal(text.includes(hashApiKey(key)), false, 'the hash is shown')
})

test('the store holds the key\'s SHA-256, not the key, and the compiled policy lets the key in', async () => {
  const { key, id } = (await call('POST', `${V1}/namespaces/default/functions/orders/keys`)).json
  const records = apiKeyRecordsOf(store, 'default', 'orders')
  assert.deepEqual(records.find((r) => r.id === id), { id, sha256: hashApiKey(key) })
  for (const file of ['roost.db', 'roost.db-wal']) {
    try { assert.equal(readFileSync(join(dir, file)).includes(key.slice(16)), false, `${file} holds the key`) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
  }
  const fn = store.getResource<any>('Function', 'default', 'orders')!
  const authenticator = new CallerAuthenticator(callerAuthOf(store, fn))
  assert.deepEqual(authenticator.authenticate({ ...emptyAuthFacts(), apiKey: key }, Date.now()), { ok: true, caller: `key:${id}` })
})

test('a key with an expiry carries it into the policy in epoch ms', async () => {
  const { id, expiresAt } = (await call('POST', `${V1}/namespaces/default/functions/orders/keys`, admin, { expires: '90m' })).json
  assert.equal(apiKeyRecordsOf(store, 'default', 'orders').find((r) => r.id === id)?.expiresAt, Date.parse(expiresAt))
})

test('a key for a function that does not ask for keys yet comes with a warning', async () => {
  const created = await call('POST', `${V1}/namespaces/team-a/functions/open/keys`)
  assert.equal(created.status, 201)
  assert.deepEqual(created.json.warnings, ['function open does not ask for keys yet (its spec.http.auth is none): set spec.http.auth: key and apply it'])
})

test('bad bodies are refused as problem+json naming the field', async () => {
  for (const [body, field] of [[{ expires: '30' }, 'expires'], [{ expires: '0m' }, 'expires'], [{ expires: '3651d' }, 'expires'], [{ name: '' }, 'name'], [{ name: 'a\nb' }, 'name'], [{ scope: 'x' }, 'scope']] as const) {
    const refused = await app.inject({ method: 'POST', url: `${V1}/namespaces/default/functions/orders/keys`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    assert.equal(refused.statusCode, 422, JSON.stringify(body))
    assert.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8')
    assert.equal(refused.json().code, 'ROOST_E_VALIDATION')
    assert.equal(refused.json().field, field)
  }
})

test('a key for a function that does not exist is 404', async () => {
  const missing = await call('POST', `${V1}/namespaces/default/functions/nope/keys`)
  assert.equal(missing.status, 404)
  assert.equal(missing.json.code, 'ROOST_E_NOT_FOUND')
})

test('a namespace token makes and sees keys of its namespace only; another namespace is 403, another\'s key 404', async () => {
  const own = await call('POST', `${V1}/namespaces/team-a/functions/billing/keys`, teamA)
  assert.equal(own.status, 201)
  assert.equal((await call('POST', `${V1}/namespaces/default/functions/orders/keys`, teamA)).status, 403)
  assert.equal((await call('GET', `${V1}/namespaces/default/keys`, teamA)).status, 403)
  const all = (await call('GET', `${V1}/keys`, teamA)).json.items as Array<{ namespace: string }>
  assert.ok(all.length > 0 && all.every((k) => k.namespace === 'team-a'))
  const adminKey = (await call('POST', `${V1}/namespaces/default/functions/orders/keys`)).json.id
  const refused = await call('DELETE', `${V1}/keys/${adminKey}`, teamA)
  assert.equal(refused.status, 404)
  assert.equal(apiKeyRecordsOf(store, 'default', 'orders').some((r) => r.id === adminKey), true, 'still there')
})

test('revoke by id removes the key from the policy; a second revoke is 404', async () => {
  const { id } = (await call('POST', `${V1}/namespaces/team-a/functions/billing/keys`, teamA)).json
  const revoked = await call('DELETE', `${V1}/keys/${id}`, teamA)
  assert.deepEqual(revoked.json, { result: 'revoked', id, namespace: 'team-a', function: 'billing' })
  assert.equal(apiKeyRecordsOf(store, 'team-a', 'billing').some((r) => r.id === id), false)
  assert.equal((await call('DELETE', `${V1}/keys/${id}`, teamA)).status, 404)
  const namespaced = (await call('POST', `${V1}/namespaces/team-a/functions/billing/keys`, teamA)).json.id
  assert.equal((await call('DELETE', `${V1}/namespaces/team-a/keys/${namespaced}`, teamA)).status, 200)
  assert.equal((await call('DELETE', `${V1}/keys/not-a-key-id`)).status, 404)
})

test('deleting a function deletes its keys; a function made again under the name starts without keys', async () => {
  putFunction('default', 'temp')
  await call('POST', `${V1}/namespaces/default/functions/temp/keys`)
  assert.equal(apiKeyRecordsOf(store, 'default', 'temp').length, 1)
  assert.equal((await call('DELETE', `${V1}/namespaces/default/functions/temp`)).status, 200)
  assert.deepEqual(apiKeyRecordsOf(store, 'default', 'temp'), [])
})

test('deleting a namespace deletes its keys', async () => {
  putFunction('team-b', 'f')
  await call('POST', `${V1}/namespaces/team-b/functions/f/keys`)
  assert.equal((await call('DELETE', `${V1}/namespaces/team-b?cascade=true`)).status, 200)
  assert.deepEqual(store.listResources('ApiKey', 'team-b'), [])
})
