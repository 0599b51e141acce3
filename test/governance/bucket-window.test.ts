import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BucketWindow } from '../../src/governance/index.js'

describe('BucketWindow', () => {
  test('sums the current bucket and the buckets - 1 before it', () => {
    const window = new BucketWindow(4, 250, 2)
    window.add(0, 0)
    window.add(260, 0)
    window.add(510, 0, 2)
    window.add(760, 1)
    assert.equal(window.sum(999, 0), 4)
    assert.equal(window.sum(999, 1), 1)
    assert.equal(window.sum(1000, 0), 3)
    assert.equal(window.sum(1250, 0), 2)
    assert.equal(window.sum(1500, 0), 0)
    assert.equal(window.sum(1500, 1), 1)
    assert.equal(window.sum(1750, 1), 0)
  })

  test('a gap longer than the window empties it', () => {
    const window = new BucketWindow(10, 1000, 1)
    for (let t = 0; t < 10_000; t += 100) window.add(t, 0)
    assert.equal(window.sum(9999, 0), 100)
    assert.equal(window.sum(60_000, 0), 0)
    window.add(60_001, 0)
    assert.equal(window.sum(60_002, 0), 1)
  })

  test('reads the current bucket alone', () => {
    const window = new BucketWindow(10, 1000, 1)
    window.add(500, 0, 3)
    window.add(1500, 0)
    assert.equal(window.current(1999, 0), 1)
    assert.equal(window.current(2000, 0), 0)
    assert.equal(window.sum(2000, 0), 4)
  })

  test('a clock that steps back adds to the newest bucket', () => {
    const window = new BucketWindow(2, 500, 1)
    window.add(1200, 0)
    window.add(100, 0)
    assert.equal(window.current(1200, 0), 2)
    assert.equal(window.sum(2000, 0), 0)
  })

  test('clear forgets everything', () => {
    const window = new BucketWindow(2, 500, 1)
    window.add(0, 0, 5)
    window.clear()
    assert.equal(window.sum(0, 0), 0)
  })
})
