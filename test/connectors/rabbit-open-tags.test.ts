// When one basic.ack with `multiple` settles exactly a batch: only when no
// tag below the batch's greatest is still open.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OpenTags } from '../../src/connectors/rabbit-open-tags.js'

function delivered (count: number): OpenTags {
  const tags = new OpenTags()
  for (let tag = 1; tag <= count; tag++) tags.delivered(tag)
  return tags
}

test('the first batch out of the channel settles together; one behind a batch still at work does not', () => {
  const tags = delivered(9)
  assert.equal(tags.settledTogether([1, 2, 3]), true)
  assert.equal(tags.settledTogether([7, 8, 9]), false, '4, 5 and 6 are still open')
  assert.equal(tags.size, 3)
  assert.equal(tags.settledTogether([5, 4, 6]), true, 'in any order: 7 to 9 were settled before')
  assert.equal(tags.size, 0)
})

test('a tag settled on its own (a retry, a dead message) no longer holds a later batch back', () => {
  const tags = delivered(6)
  tags.settled(1)
  tags.settled(3)
  assert.equal(tags.settledTogether([4, 5]), false, '2 is open')
  tags.settled(2)
  assert.equal(tags.settledTogether([6]), true)
})

test('messages pushed after the batch do not hold it back; ones pushed before it do', () => {
  const tags = delivered(4)
  assert.equal(tags.settledTogether([1, 2]), true, '3 and 4 come after')
  tags.delivered(5)
  assert.equal(tags.settledTogether([5]), false, '3 and 4 are open below it')
})

test('a tag settled twice is counted once, and a long run of settlements is compacted without losing the open ones', () => {
  const tags = delivered(5000)
  tags.settled(1)
  tags.settled(1)
  assert.equal(tags.size, 4999)
  for (let tag = 2; tag <= 4000; tag++) tags.settled(tag)
  assert.equal(tags.size, 1000)
  assert.equal(tags.settledTogether([4002]), false, '4001 is open')
  assert.equal(tags.settledTogether([4001]), true)
  assert.equal(tags.size, 998)
})
