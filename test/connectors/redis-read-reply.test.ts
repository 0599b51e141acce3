// The entries of an XREADGROUP reply, whatever shape the client gave it:
// RESP2's nested arrays, RESP3's map as a plain object or as a Map.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { streamEntries } from '../../src/connectors/redis-read-reply.js'
import type { StreamEntries } from '../../src/connectors/redis-read-reply.js'

const entries: StreamEntries = [[Buffer.from('1-0'), [Buffer.from('a'), Buffer.from('1')]]]

describe('streamEntries', () => {
  test('null (the block ran out) is no entries', () => {
    assert.deepEqual(streamEntries(null), [])
  })
  test('RESP2: [[stream, entries]]', () => {
    assert.equal(streamEntries([[Buffer.from('s'), entries]]), entries)
    assert.deepEqual(streamEntries([]), [])
  })
  test('RESP3 as node-redis gives it by default: an object keyed by the stream name', () => {
    assert.equal(streamEntries({ s: entries }), entries)
    assert.deepEqual(streamEntries({}), [])
  })
  test('RESP3 with a Map type mapping', () => {
    assert.equal(streamEntries(new Map([['s', entries]])), entries)
    assert.deepEqual(streamEntries(new Map()), [])
  })
})
