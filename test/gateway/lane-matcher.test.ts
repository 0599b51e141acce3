import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LaneMatcher } from '../../src/gateway/lane-matcher.js'
import type { LaneMatch } from '../../src/governance/index.js'

// Which lane a request goes to: the first lane whose every condition (headers,
// cookies, query parameters, path) holds.

function lane (name: string, conditions: Partial<Omit<LaneMatch, 'lane' | 'id'>>): LaneMatch {
  return { lane: name, id: `lanes[${name}]`, headers: [], cookies: [], query: [], ...conditions }
}

const matcher = new LaneMatcher([
  lane('header', { headers: [{ name: 'X-Lane', match: { exact: 'canary' } }] }),
  lane('cookie', { cookies: [{ name: 'lane', match: { prefix: 'blue' } }] }),
  lane('query', { query: [{ name: 'lane', match: { regex: '^g(reen)?$' } }], path: { prefix: '/api' } }),
  lane('all', { headers: [{ name: 'x-a', match: { exact: '1' } }], cookies: [{ name: 'b', match: { exact: '2' } }], query: [{ name: 'c', match: { exact: '3' } }] })
])

test('a header condition matches the header in any case of its name', () => {
  assert.equal(matcher.match({ url: '/', rawHeaders: ['x-lane', 'canary'] }), 'header')
  assert.equal(matcher.match({ url: '/', rawHeaders: ['X-LANE', 'canary'] }), 'header')
  assert.equal(matcher.match({ url: '/', rawHeaders: ['X-Lane', 'stable'] }), undefined)
})

test('a cookie condition reads the cookie from every Cookie header', () => {
  assert.equal(matcher.match({ url: '/', rawHeaders: ['Cookie', 'a=1; lane=blue-2'] }), 'cookie')
  assert.equal(matcher.match({ url: '/', rawHeaders: ['cookie', 'a=1', 'Cookie', 'lane=blue'] }), 'cookie')
  assert.equal(matcher.match({ url: '/', rawHeaders: ['cookie', 'lane=red; lane=blue'] }), undefined, 'the first cookie of a name wins')
})

test('a query condition reads the decoded parameter; a path condition ignores the query', () => {
  assert.equal(matcher.match({ url: '/api/x?lane=green', rawHeaders: [] }), 'query')
  assert.equal(matcher.match({ url: '/api?a=1&lane=g', rawHeaders: [] }), 'query')
  assert.equal(matcher.match({ url: '/api/x?l%61ne=gr%65en', rawHeaders: [] }), 'query')
  assert.equal(matcher.match({ url: '/other?lane=green', rawHeaders: [] }), undefined, 'the path condition fails')
  assert.equal(matcher.match({ url: '/api/x?lane=red', rawHeaders: [] }), undefined)
})

test('every condition of a lane must hold; the first lane that holds wins', () => {
  const headers = ['x-a', '1', 'cookie', 'b=2']
  assert.equal(matcher.match({ url: '/?c=3', rawHeaders: headers }), 'all')
  assert.equal(matcher.match({ url: '/?c=4', rawHeaders: headers }), undefined)
  assert.equal(matcher.match({ url: '/?c=3', rawHeaders: ['x-a', '1'] }), undefined)
  assert.equal(matcher.match({ url: '/?c=3', rawHeaders: [...headers, 'x-lane', 'canary'] }), 'header')
})

test('a lane with no conditions takes every request', () => {
  assert.equal(new LaneMatcher([lane('everything', {})]).match({ url: '/x?y', rawHeaders: [] }), 'everything')
})
