import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Router } from '../../src/gateway/router.js'

const router = new Router([
  { name: 'hello', namespace: 'default', paths: ['/hello'], value: 'hello.default' },
  { name: 'hello', namespace: 'team-a', paths: [], value: 'hello.team-a' },
  { name: 'api', namespace: 'default', paths: ['/api', '/api/users'], value: 'api' },
  { name: 'users', namespace: 'default', paths: ['/api/users/admin'], value: 'users' }
])

test('/fn/<name> routes to the function of the default namespace and passes the rest of the path', () => {
  assert.deepEqual(router.match('/fn/hello'), { fn: 'hello.default', path: '/', prefix: '/fn/hello' })
  assert.deepEqual(router.match('/fn/hello/a/b?x=1'), { fn: 'hello.default', path: '/a/b?x=1', prefix: '/fn/hello' })
  assert.deepEqual(router.match('/fn/hello?x=1'), { fn: 'hello.default', path: '/?x=1', prefix: '/fn/hello' })
})

test('/fn/<name>.<namespace> routes to that namespace', () => {
  assert.equal(router.match('/fn/hello.team-a/x')?.fn, 'hello.team-a')
  assert.equal(router.match('/fn/hello.default')?.fn, 'hello.default')
})

test('a function outside the default namespace is not reachable by its bare name', () => {
  const only = new Router([{ name: 'x', namespace: 'team-a', paths: [], value: 1 }])
  assert.equal(only.match('/fn/x'), null)
})

test('custom paths match on segment boundaries, longest prefix first', () => {
  assert.deepEqual(router.match('/hello'), { fn: 'hello.default', path: '/', prefix: '/hello' })
  assert.deepEqual(router.match('/hello/world?q'), { fn: 'hello.default', path: '/world?q', prefix: '/hello' })
  assert.equal(router.match('/helloworld'), null)
  assert.equal(router.match('/api/users/admin/1')?.fn, 'users')
  assert.equal(router.match('/api/users/2')?.fn, 'api')
  assert.equal(router.match('/api')?.fn, 'api')
})

test('unknown paths and unknown functions do not match', () => {
  assert.equal(router.match('/'), null)
  assert.equal(router.match('/fn/'), null)
  assert.equal(router.match('/fn/nope'), null)
  assert.equal(router.match('/other'), null)
})
