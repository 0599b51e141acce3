import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PendingQueue } from '../../src/gateway/pending-queue.js'

interface Item { id: number, live: boolean }
const live = (item: Item): boolean => item.live

test('items come out in arrival order', () => {
  const queue = new PendingQueue<Item>(4, live)
  for (let id = 1; id <= 3; id++) assert.equal(queue.push({ id, live: true }), true)
  assert.deepEqual([queue.shift()?.id, queue.shift()?.id, queue.shift()?.id, queue.shift()], [1, 2, 3, undefined])
})

test('a full queue refuses more instead of growing', () => {
  const queue = new PendingQueue<Item>(2, live)
  assert.equal(queue.push({ id: 1, live: true }), true)
  assert.equal(queue.push({ id: 2, live: true }), true)
  assert.equal(queue.push({ id: 3, live: true }), false)
  assert.equal(queue.length, 2)
})

test('entries that left early are skipped and free their room when the queue fills', () => {
  const queue = new PendingQueue<Item>(2, live)
  const first = { id: 1, live: true }
  queue.push(first)
  queue.push({ id: 2, live: true })
  first.live = false
  assert.equal(queue.push({ id: 3, live: true }), true)
  assert.deepEqual(queue.drain().map((item) => item.id), [2, 3])
})

test('the ring wraps around without losing order', () => {
  const queue = new PendingQueue<Item>(3, live)
  let next = 1
  let expected = 1
  for (let round = 0; round < 10; round++) {
    queue.push({ id: next++, live: true })
    queue.push({ id: next++, live: true })
    assert.equal(queue.shift()?.id, expected++)
    assert.equal(queue.shift()?.id, expected++)
  }
})
