import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LogRateLimit, TokenBucket } from '../../src/instances/index.js'
import { FakeClock } from './fake-clock.js'

test('a bucket grants its burst at once, then its rate', () => {
  const clock = new FakeClock()
  const bucket = new TokenBucket(200, 1000, clock)
  assert.equal(bucket.take(600), 600)
  assert.equal(bucket.take(600), 400)
  assert.equal(bucket.take(1), 0)
  clock.advance(10)
  assert.equal(bucket.take(5), 2, '200 a second is 2 in 10 ms')
  clock.advance(60_000)
  assert.equal(bucket.take(5000), 1000, 'never more than the burst')
})

test('lines past the budget are counted and told once a second, not each', () => {
  const clock = new FakeClock()
  const told: number[] = []
  const limit = new LogRateLimit((n) => told.push(n), clock, 200, 1000)
  assert.equal(limit.admit(1000), 1000)
  assert.equal(limit.admit(1), 0)
  assert.equal(limit.admit(500), 0)
  assert.deepEqual(told, [])
  clock.advance(999)
  assert.deepEqual(told, [])
  clock.advance(1)
  assert.deepEqual(told, [501])
  // 200 came back in that second.
  assert.equal(limit.admit(300), 200)
  limit.flush()
  assert.deepEqual(told, [501, 100], 'flush tells at once what is counted')
  limit.flush()
  assert.deepEqual(told, [501, 100], 'and nothing when nothing is')
})

test('lines the instance dropped itself are added to the count', () => {
  const clock = new FakeClock()
  const told: number[] = []
  const limit = new LogRateLimit((n) => told.push(n), clock, 200, 1000)
  assert.equal(limit.admit(3, 7), 3)
  clock.advance(1000)
  assert.deepEqual(told, [7])
})
