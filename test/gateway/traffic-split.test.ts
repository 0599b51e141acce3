import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TrafficSplit } from '../../src/gateway/traffic-split.js'

test('a single target takes everything', () => {
  const split = new TrafficSplit([{ percent: 100, value: 'v1' }])
  for (let i = 0; i < 100; i++) assert.equal(split.pick(undefined), 'v1')
})

test('weights split traffic in proportion', () => {
  const split = new TrafficSplit([{ percent: 90, value: 'v1' }, { percent: 10, value: 'v2' }])
  let v2 = 0
  const n = 20_000
  for (let i = 0; i < n; i++) if (split.pick(undefined) === 'v2') v2++
  // 10% ± 1.5% is far outside random variation for 20 000 draws (σ ≈ 0.2%).
  assert.ok(Math.abs(v2 / n - 0.1) < 0.015, `v2 share ${v2 / n}`)
})

test('a tag reaches its version even at 0 percent; an unknown tag falls back to the weights', () => {
  const split = new TrafficSplit([{ percent: 0, tag: 'canary', value: 'v2' }, { percent: 100, value: 'v1' }])
  assert.equal(split.pick('canary'), 'v2')
  assert.equal(split.pick('other'), 'v1')
  assert.equal(split.pick(undefined), 'v1')
})
