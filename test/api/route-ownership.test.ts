import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { ConflictError, ValidationError } from '../../src/errors/index.js'
import { checkRouteIsFree, pathsOverlap, reserveRoute } from '../../src/api/route-ownership.js'
import { Store } from '../../src/store/index.js'

function openStore (t: TestContext): Store {
  const dir = mkdtempSync(join(tmpdir(), 'roost-routes-'))
  const store = Store.open(dir)
  t.after(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return store
}

function route (store: Store, namespace: string, name: string, path: string): void {
  checkRouteIsFree(store, { namespace, name }, path)
  store.putResource('Function', namespace, name, { spec: { source: './a.ts', env: {}, http: { path } }, labels: {} })
}

function conflict (pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ConflictError, String(error))
    assert.equal(error.status, 409)
    assert.equal(error.field, 'spec.http.path')
    assert.match(error.message, pattern)
    return true
  }
}

test('paths overlap by whole segments', () => {
  assert.equal(pathsOverlap('/hello', '/hello'), true)
  assert.equal(pathsOverlap('/hello', '/hello/login'), true)
  assert.equal(pathsOverlap('/hello/login', '/hello'), true)
  assert.equal(pathsOverlap('/hello', '/hellox'), false)
  assert.equal(pathsOverlap('/hellox', '/hello'), false)
  assert.equal(pathsOverlap('/hello/login', '/hello/logout'), false)
  assert.equal(pathsOverlap('/a/b/c', '/a'), true)
})

test('a path under another namespace\'s path is a conflict naming the owner (the lower one applied second)', (t) => {
  const store = openStore(t)
  route(store, 'default', 'hello', '/hello')
  assert.throws(() => route(store, 'team-a', 'login', '/hello/login'), conflict(/\/hello\/login is under \/hello, routed to function hello in namespace default/))
})

test('a path above another namespace\'s path is a conflict too (the higher one applied second)', (t) => {
  const store = openStore(t)
  route(store, 'team-a', 'login', '/hello/login')
  assert.throws(() => route(store, 'default', 'hello', '/hello'), conflict(/\/hello is above \/hello\/login, routed to function login in namespace team-a/))
})

test('the same path in another namespace is a conflict; /hellox beside /hello is not', (t) => {
  const store = openStore(t)
  route(store, 'default', 'hello', '/hello')
  assert.throws(() => route(store, 'team-a', 'hello', '/hello'), conflict(/is already routed to function hello in namespace default/))
  route(store, 'team-a', 'hellox', '/hellox')
  route(store, 'team-a', 'other', '/other/hello')
})

test('within one namespace nesting is allowed, the very same path for two functions is not', (t) => {
  const store = openStore(t)
  route(store, 'default', 'hello', '/hello')
  route(store, 'default', 'login', '/hello/login')
  route(store, 'default', 'root', '/h')
  assert.throws(() => route(store, 'default', 'twin', '/hello'), conflict(/already routed to function hello in namespace default/))
  // a function keeps its own path when applied again
  route(store, 'default', 'hello', '/hello')
})

test('a reserved prefix takes routes of its namespace only: at, under and above it', (t) => {
  const store = openStore(t)
  reserveRoute(store, '/team-a', 'team-a')
  route(store, 'team-a', 'api', '/team-a/api')
  route(store, 'team-a', 'root', '/team-a')
  assert.throws(() => route(store, 'default', 'squat', '/team-a'), conflict(/\/team-a is already reserved for namespace team-a/))
  assert.throws(() => route(store, 'default', 'squat', '/team-a/x'), conflict(/\/team-a\/x is under \/team-a, reserved for namespace team-a/))
  route(store, 'default', 'beside', '/team-ab')
  reserveRoute(store, '/shop/checkout', 'team-b')
  assert.throws(() => route(store, 'default', 'shop', '/shop'), conflict(/\/shop is above \/shop\/checkout, reserved for namespace team-b/))
})

test('a reservation over another namespace\'s route or reservation is refused, its own namespace\'s is fine', (t) => {
  const store = openStore(t)
  route(store, 'default', 'hello', '/hello/world')
  assert.throws(() => reserveRoute(store, '/hello', 'team-a'), (error: unknown) => error instanceof ConflictError && /overlaps \/hello\/world, routed to function hello in namespace default/.test(error.message))
  assert.equal(reserveRoute(store, '/hello', 'default').changed, true)
  assert.throws(() => reserveRoute(store, '/hello/world/x', 'team-a'), (error: unknown) => error instanceof ConflictError && /reserved for namespace default/.test(error.message))
  assert.equal(reserveRoute(store, '/hello', 'default').changed, false)
  assert.deepEqual(store.listRouteReservations().map((r) => r.prefix), ['/hello'])
})

test('a reservation needs a path and a namespace of the route syntax', (t) => {
  const store = openStore(t)
  for (const [prefix, namespace] of [['team-a', 'team-a'], ['/a/', 'team-a'], ['/fn', 'team-a'], ['/healthz/x', 'team-a'], ['/a', 'Team A'], [3, 'team-a']]) {
    assert.throws(() => reserveRoute(store, prefix as string, namespace as string), ValidationError, `${String(prefix)} ${String(namespace)}`)
  }
  assert.deepEqual(store.listRouteReservations(), [])
})
