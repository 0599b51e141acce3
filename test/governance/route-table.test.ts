import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RouteTable, routeMatches } from '../../src/governance/index.js'

describe('RouteTable', () => {
  const table = new RouteTable([
    { routes: [{ path: '/foo' }], value: 'exact-foo' },
    { routes: [{ path: '/foo/*' }], value: 'under-foo' },
    { routes: [{ method: 'GET', path: '/foo' }], value: 'get-foo' },
    { routes: [], value: 'everything' },
    { routes: [{ path: '/foo/bar/*' }, { method: 'POST', path: '/other' }], value: 'bar-or-post-other' },
    { routes: [{ path: '/*' }], value: 'star' }
  ])

  test('an exact path matches that path only, on any method unless one is named', () => {
    assert.deepEqual(table.match('GET', '/foo'), ['exact-foo', 'under-foo', 'get-foo', 'everything', 'star'])
    assert.deepEqual(table.match('POST', '/foo'), ['exact-foo', 'under-foo', 'everything', 'star'])
    assert.deepEqual(table.match('GET', '/foobar'), ['everything', 'star'])
  })

  test('a prefix matches on a segment boundary, and nested prefixes all apply', () => {
    assert.deepEqual(table.match('GET', '/foo/'), ['under-foo', 'everything', 'star'])
    assert.deepEqual(table.match('GET', '/foo/baz'), ['under-foo', 'everything', 'star'])
    assert.deepEqual(table.match('GET', '/foo/bar'), ['under-foo', 'everything', 'bar-or-post-other', 'star'])
    assert.deepEqual(table.match('DELETE', '/foo/bar/x/y'), ['under-foo', 'everything', 'bar-or-post-other', 'star'])
    assert.deepEqual(table.match('GET', '/foo/barn'), ['under-foo', 'everything', 'star'])
  })

  test('a method-bound route applies to that method alone', () => {
    assert.deepEqual(table.match('POST', '/other'), ['everything', 'bar-or-post-other', 'star'])
    assert.deepEqual(table.match('GET', '/other'), ['everything', 'star'])
  })

  test('the query string is not part of the path', () => {
    assert.deepEqual(table.match('GET', '/foo?x=1'), table.match('GET', '/foo'))
    assert.deepEqual(table.match('GET', '/foo/bar?y'), table.match('GET', '/foo/bar'))
  })

  test('a match returns the same frozen array each time: nothing is allocated per request', () => {
    const first = table.match('GET', '/foo/baz/1')
    assert.equal(table.match('GET', '/foo/qux'), first)
    assert.equal(Object.isFrozen(first), true)
    assert.equal(table.match('PATCH', '/nowhere'), table.match('PUT', '/elsewhere'))
  })

  test('a table with no routes matches nothing', () => {
    assert.deepEqual(new RouteTable<string>([]).match('GET', '/'), [])
    assert.deepEqual(new RouteTable([{ routes: [{ path: '/a' }], value: 1 }]).match('GET', '/b'), [])
  })
})

describe('routeMatches', () => {
  test('judges one route as the table does', () => {
    assert.equal(routeMatches({ path: '/foo' }, 'GET', '/foo?q'), true)
    assert.equal(routeMatches({ method: 'GET', path: '/foo' }, 'POST', '/foo'), false)
    assert.equal(routeMatches({ path: '/foo/*' }, 'PUT', '/foo'), true)
    assert.equal(routeMatches({ path: '/foo/*' }, 'PUT', '/foobar'), false)
    assert.equal(routeMatches({ path: '/*' }, 'PUT', '/anything/at/all'), true)
  })
})
