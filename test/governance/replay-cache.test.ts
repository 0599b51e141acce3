import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplayCache } from '../../src/governance/index.js'

test('a key is admitted once; the same key again is a replay', () => {
  const cache = new ReplayCache(10)
  assert.equal(cache.admit('a', 1000, 0), 'admitted')
  assert.equal(cache.admit('a', 1000, 0), 'replayed')
  assert.equal(cache.size, 1)
})

test('an entry is kept while its stamp is at or after the horizon and forgotten once it falls before', () => {
  const cache = new ReplayCache(10)
  cache.admit('a', 1000, 0)
  assert.equal(cache.admit('a', 1000, 1000), 'replayed', 'stamp == horizon: still needed')
  assert.equal(cache.admit('a', 1000, 1001), 'admitted', 'stamp < horizon: forgotten, so admitted anew')
})

test('entries expire in stamp order whatever order they arrived in', () => {
  const cache = new ReplayCache(10)
  for (const [key, stamp] of [['c', 300], ['a', 100], ['e', 500], ['b', 200], ['d', 400]] as const) cache.admit(key, stamp, 0)
  cache.purge(250)
  assert.equal(cache.size, 3)
  assert.equal(cache.admit('c', 300, 250), 'replayed')
  assert.equal(cache.admit('b', 200, 250), 'admitted', 'b was forgotten')
  cache.purge(450)
  assert.equal(cache.size, 1, 'only e is left')
  assert.equal(cache.admit('e', 500, 450), 'replayed')
})

test('a full cache refuses new keys rather than forget one, and admits again once entries expire', () => {
  const cache = new ReplayCache(2)
  assert.equal(cache.admit('a', 100, 0), 'admitted')
  assert.equal(cache.admit('b', 200, 0), 'admitted')
  assert.equal(cache.admit('c', 300, 0), 'full')
  assert.equal(cache.admit('a', 100, 0), 'replayed', 'a full cache still knows its entries')
  assert.equal(cache.admit('c', 300, 101), 'admitted', 'a expired, making room')
  assert.equal(cache.size, 2)
})

test('a lowered maxSize refuses until the cache has drained below it', () => {
  const cache = new ReplayCache(3)
  for (const key of ['a', 'b', 'c']) cache.admit(key, 100, 0)
  cache.maxSize = 1
  assert.equal(cache.admit('d', 200, 0), 'full')
  assert.equal(cache.admit('d', 200, 101), 'admitted')
})

test('a thousand entries with shuffled stamps purge exactly those before the horizon', () => {
  const cache = new ReplayCache(2000)
  const stamps = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000) // a permutation of 0..999
  for (const stamp of stamps) cache.admit(`k${stamp}`, stamp, 0)
  for (const horizon of [0, 1, 250, 251, 999, 1000]) {
    cache.purge(horizon)
    assert.equal(cache.size, 1000 - horizon, `horizon ${horizon}`)
  }
})
