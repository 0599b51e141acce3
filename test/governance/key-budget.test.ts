import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KeyBudget } from '../../src/governance/index.js'

test('a KeyBudget counts up to its max, and a child counts against its parent too', () => {
  const gateway = new KeyBudget(3)
  const a = new KeyBudget(2, gateway)
  const b = new KeyBudget(2, gateway)
  assert.equal(a.take(), true)
  assert.equal(a.take(), true)
  assert.equal(a.take(), false, 'a namespace stops at its own max')
  assert.equal(b.take(), true)
  assert.equal(b.take(), false, 'and every namespace stops at the gateway\'s')
  assert.deepEqual([a.inUse, b.inUse, gateway.inUse], [2, 1, 3])
  a.give(1)
  assert.deepEqual([a.inUse, gateway.inUse], [1, 2], 'given back to the parent as well')
  assert.equal(b.take(), true)
  b.give(10)
  assert.deepEqual([b.inUse, gateway.inUse], [0, 1], 'never more than was taken')
  assert.throws(() => new KeyBudget(-1), RangeError)
})
