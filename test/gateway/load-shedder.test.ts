import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LoadShedder } from '../../src/gateway/load-shedder.js'

function shedOf (shedder: LoadShedder, requests: number): number {
  let shed = 0
  for (let i = 0; i < requests; i++) if (shedder.shouldShed()) shed++
  return shed
}

test('a gateway whose event loop keeps up sheds nothing', () => {
  const shedder = new LoadShedder()
  for (let i = 0; i < 50; i++) shedder.observeLag(5)
  assert.equal(shedder.overloaded, false)
  assert.equal(shedOf(shedder, 1000), 0)
})

test('lag at twice the target sheds the largest share, exactly, and never everything', () => {
  const shedder = new LoadShedder({ lagTargetMs: 100, smoothing: 1, maxShare: 0.9 })
  shedder.observeLag(200)
  assert.equal(shedder.overloaded, true)
  assert.equal(shedOf(shedder, 100), 90)
  shedder.observeLag(10_000)
  assert.equal(shedOf(shedder, 100), 90)
})

test('the shed share grows with the lag over the target', () => {
  const shedder = new LoadShedder({ lagTargetMs: 100, smoothing: 1, maxShare: 0.9 })
  shedder.observeLag(150)
  assert.equal(shedOf(shedder, 100), 45)
  shedder.observeLag(110)
  assert.equal(shedOf(shedder, 100), 9)
})

test('shed requests are spread evenly, not bunched', () => {
  const shedder = new LoadShedder({ lagTargetMs: 100, smoothing: 1, maxShare: 0.9 })
  shedder.observeLag(150)
  // 45 of 100: never more than one admitted request in a row between shed ones, at most 2 shed in a row.
  const pattern = Array.from({ length: 100 }, () => shedder.shouldShed() ? 'x' : '.').join('')
  assert.doesNotMatch(pattern, /xxx/)
  assert.doesNotMatch(pattern, /\.\.\./)
})

test('one slow turn does not start shedding; the average has to climb', () => {
  const shedder = new LoadShedder({ lagTargetMs: 100, smoothing: 0.3 })
  shedder.observeLag(250)
  // 0.3 × 250 = 75, under the target.
  assert.equal(shedder.overloaded, false)
  shedder.observeLag(250)
  shedder.observeLag(250)
  assert.equal(shedder.overloaded, true)
})

test('shedding stops once the lag comes back under the target', () => {
  const shedder = new LoadShedder({ lagTargetMs: 100, smoothing: 0.5 })
  for (let i = 0; i < 10; i++) shedder.observeLag(400)
  assert.equal(shedder.overloaded, true)
  for (let i = 0; i < 10; i++) shedder.observeLag(0)
  assert.equal(shedder.overloaded, false)
  assert.equal(shedOf(shedder, 100), 0)
})

test('takeShed counts the shed requests since it was last asked', () => {
  const shedder = new LoadShedder({ smoothing: 1 })
  shedder.observeLag(200)
  shedOf(shedder, 10)
  assert.equal(shedder.takeShed(), 9)
  assert.equal(shedder.takeShed(), 0)
})
