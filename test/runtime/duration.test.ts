import { test } from 'node:test'
import assert from 'node:assert/strict'
import { delayMs } from '../../src/runtime/duration.js'

test('a delay is milliseconds (rounded) or a duration of ms, s, m or h', () => {
  assert.equal(delayMs(0, 'delay'), 0)
  assert.equal(delayMs(1500, 'delay'), 1500)
  assert.equal(delayMs(2.6, 'delay'), 3)
  assert.equal(delayMs('500ms', 'delay'), 500)
  assert.equal(delayMs('5s', 'delay'), 5000)
  assert.equal(delayMs('2m', 'delay'), 120_000)
  assert.equal(delayMs('1h', 'delay'), 3_600_000)
})

test('anything else is a TypeError naming what was given', () => {
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5', '5 s', '1.5s', '5d', '-5s', '', null, {}, true]) {
    assert.throws(() => delayMs(bad, 'retry({ delay })'), (err: unknown) => err instanceof TypeError && err.message.startsWith('retry({ delay }) must be '), String(bad))
  }
  assert.throws(() => delayMs('soon', 'delay'), { message: 'delay must be a number of milliseconds or a duration such as "500ms", "5s", "2m" or "1h", got "soon"' })
})
