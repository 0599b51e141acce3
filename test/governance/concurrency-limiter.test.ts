import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConcurrencyLimiter } from '../../src/governance/index.js'

describe('ConcurrencyLimiter', () => {
  test('admits up to the limit in flight and one more for each release', () => {
    const limiter = new ConcurrencyLimiter(2)
    assert.equal(limiter.tryAcquire(), true)
    assert.equal(limiter.tryAcquire(), true)
    assert.equal(limiter.tryAcquire(), false)
    assert.equal(limiter.inFlight, 2)
    assert.equal(limiter.remaining, 0)
    limiter.release()
    assert.equal(limiter.tryAcquire(), true)
    assert.equal(limiter.tryAcquire(), false)
  })

  test('a release with nothing in flight opens no extra slot', () => {
    const limiter = new ConcurrencyLimiter(1)
    limiter.release()
    assert.equal(limiter.tryAcquire(), true)
    assert.equal(limiter.tryAcquire(), false)
  })

  test('a limit of 0 admits nothing', () => {
    assert.equal(new ConcurrencyLimiter(0).tryAcquire(), false)
  })
})
