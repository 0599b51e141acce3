import { test } from 'node:test'
import assert from 'node:assert/strict'
import { entryIdBefore, entryTime } from '../../src/connectors/redis-entry.js'

test('entry ids order by their time, then their sequence, as numbers and not as text', () => {
  assert.equal(entryIdBefore('9-0', '10-0'), true)
  assert.equal(entryIdBefore('10-0', '9-0'), false)
  assert.equal(entryIdBefore('1733000000000-9', '1733000000000-10'), true)
  assert.equal(entryIdBefore('1733000000000-10', '1733000000000-9'), false)
  assert.equal(entryIdBefore('1733000000000-5', '1733000000000-5'), false)
  assert.equal(entryIdBefore('1733000000000-99', '1733000000001-0'), true)
  assert.equal(entryTime('1733000000123-4'), 1733000000123)
})
