// Host-based routes (`spec.http.host`, issue 10 item 19) in the gateway's router.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Router } from '../../src/gateway/router.js'

const router = new Router([
  { name: 'site', namespace: 'default', paths: [], host: 'www.example.com', value: 'site' },
  { name: 'api', namespace: 'default', paths: ['/v1'], host: 'www.example.com', value: 'api' },
  { name: 'other', namespace: 'web', paths: ['/docs'], host: 'docs.example.com', value: 'docs' },
  { name: 'anywhere', namespace: 'default', paths: ['/docs'], value: 'anywhere' }
])

test('a host without a path takes every path of that host, unstripped', () => {
  assert.deepEqual(router.match('/', 'www.example.com'), { fn: 'site', path: '/', prefix: '' })
  assert.deepEqual(router.match('/about?x=1', 'www.example.com'), { fn: 'site', path: '/about?x=1', prefix: '' })
})

test('a host with a path takes the paths under it on that host only, longest first', () => {
  assert.deepEqual(router.match('/v1/users', 'www.example.com'), { fn: 'api', path: '/users', prefix: '/v1' })
  assert.deepEqual(router.match('/docs/a', 'docs.example.com'), { fn: 'docs', path: '/a', prefix: '/docs' })
  assert.equal(router.match('/v1/users', 'elsewhere.test'), null, 'not on another host')
})

test('the Host header matches without its port and whatever its case', () => {
  assert.equal(router.match('/v1', 'WWW.Example.COM:8080')?.fn, 'api')
})

test('on a host with host routes they come first; elsewhere the usual routes answer', () => {
  assert.equal(router.match('/fn/anywhere', 'www.example.com')?.fn, 'site', 'the custom domain belongs to its function')
  assert.equal(router.match('/fn/anywhere', '127.0.0.1:8080')?.fn, 'anywhere')
  assert.equal(router.match('/docs', 'other.test')?.fn, 'anywhere')
  assert.equal(router.match('/elsewhere', 'docs.example.com'), null, 'a host with paths only falls back to the usual routes')
  assert.equal(router.match('/docs', 'docs.example.com')?.fn, 'docs')
  assert.deepEqual(router.match('/docs'), router.match('/docs', 'other.test'), 'no Host: the usual routes')
})

test('the gateway needs the Host header only when some route has a host', () => {
  assert.equal(router.hasHosts, true)
  assert.equal(new Router([{ name: 'a', namespace: 'default', paths: ['/a'], value: 1 }]).hasHosts, false)
})
