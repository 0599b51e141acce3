import assert from 'node:assert/strict'
import { test } from 'node:test'
import { afterCountedFailure, backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from '../../src/events/index.js'

const POLICY = { initialMs: 1000, maxMs: 30_000 }

test('the ceiling doubles per counted failure from initialMs and stops at maxMs', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, POLICY)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
})

test('no failure yet means no delay, and a huge failure count neither overflows nor passes the cap', () => {
  assert.equal(backoffCeiling(0, POLICY), 0)
  assert.equal(backoffCeiling(10_000, POLICY), 30_000)
  assert.equal(backoffDelay(10_000, POLICY, () => 0.999999), 29_999)
})

test('full jitter: the delay is uniform in [0, ceiling), whole milliseconds', () => {
  assert.equal(backoffDelay(3, POLICY, () => 0), 0)
  assert.equal(backoffDelay(3, POLICY, () => 0.25), 1000)
  assert.equal(backoffDelay(3, POLICY, () => 0.5), 2000)
  assert.equal(backoffDelay(3, POLICY, () => 0.999999), 3999)
})

test('every delay of a thousand random draws lies within its range', () => {
  let seed = 1
  const random = (): number => { seed = (seed * 16807) % 2147483647; return (seed - 1) / 2147483646 }
  for (let n = 1; n <= 10; n++) {
    const ceiling = backoffCeiling(n, DEFAULT_BACKOFF)
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(n, DEFAULT_BACKOFF, random)
      assert.ok(Number.isInteger(delay) && delay >= 0 && delay < ceiling, `attempt ${n}: ${delay} not in [0, ${ceiling})`)
    }
  }
})

test('after a counted failure: ready with backoff while attempts are left, dead on the last', () => {
  const budget = { attempts: 1, maxAttempts: 3, backoffInitialMs: 1000, backoffMaxMs: 60_000 }
  assert.deepEqual(afterCountedFailure(budget, 10_000, { what: 'threw' }, () => 0.5), { state: 'ready', attempts: 2, notBefore: 11_000, deadReason: null })
  assert.deepEqual(afterCountedFailure({ ...budget, attempts: 2 }, 10_000, { what: 'threw: boom' }, () => 0.5),
    { state: 'dead', attempts: 3, notBefore: 10_000, deadReason: 'threw: boom on attempt 3 of 3: no attempts left' })
})

test('after a counted failure: the handler\'s delay replaces the backoff, and "do not retry" is dead at once', () => {
  const budget = { attempts: 0, maxAttempts: 5, backoffInitialMs: 1000, backoffMaxMs: 60_000 }
  assert.equal(afterCountedFailure(budget, 0, { what: 'retry', retryAfterMs: 7000 }, () => 0.5).notBefore, 7000)
  assert.deepEqual(afterCountedFailure(budget, 0, { what: 'dead', noRetryReason: 'malformed order' }, () => 0.5),
    { state: 'dead', attempts: 1, notBefore: 0, deadReason: 'malformed order' })
  assert.equal(afterCountedFailure({ ...budget, attempts: 4 }, 0, { what: 'retry', retryAfterMs: 7000 }, () => 0.5).state, 'dead', 'a delay does not buy an attempt past the last')
})
