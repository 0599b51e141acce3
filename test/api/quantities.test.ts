import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatDuration, parseDuration, parseMemory } from '../../src/api/quantities.js'
import { resolveLimits } from '../../src/api/limits.js'
import { validateFunction } from '../../src/api/validate.js'
import { ValidationError } from '../../src/errors/index.js'

test('durations are read in milliseconds, in ms, s, m or h', () => {
  assert.equal(parseDuration('500ms'), 500)
  assert.equal(parseDuration('30s'), 30_000)
  assert.equal(parseDuration('2m'), 120_000)
  assert.equal(parseDuration('1h'), 3_600_000)
  assert.equal(parseDuration('0s'), 0)
})

test('anything else is not a duration', () => {
  for (const s of ['', '30', 's', '1.5s', '-1s', '1d', '1 s', ' 1s', '1S', '1sec']) {
    assert.throws(() => parseDuration(s), ValidationError, s)
  }
  assert.throws(() => parseDuration('soon'), { message: 'expected a duration such as "30s" or "500ms", got "soon"' })
})

test('memory sizes are read in MiB, in Mi or Gi', () => {
  assert.equal(parseMemory('128Mi'), 128)
  assert.equal(parseMemory('1Gi'), 1024)
  assert.equal(parseMemory('8Gi'), 8192)
})

test('anything else is not a memory size', () => {
  for (const s of ['128', '128M', '128MB', '1G', '1.5Gi', 'Mi', '1Ki', '-1Mi']) {
    assert.throws(() => parseMemory(s), ValidationError, s)
  }
})

test('a duration is formatted in the largest unit that loses nothing', () => {
  assert.equal(formatDuration(0), '0ms')
  assert.equal(formatDuration(1500), '1500ms')
  assert.equal(formatDuration(90_000), '90s')
  assert.equal(formatDuration(60_000), '1m')
  assert.equal(formatDuration(7_200_000), '2h')
  assert.equal(formatDuration(999.6), '1s')
})

test('formatting and parsing a duration give it back', () => {
  for (const ms of [1, 100, 1000, 61_000, 3_600_000, 5_400_000]) assert.equal(parseDuration(formatDuration(ms)), ms)
})

test('a negative or infinite duration cannot be formatted', () => {
  assert.throws(() => formatDuration(-1), RangeError)
  assert.throws(() => formatDuration(Infinity), RangeError)
  assert.throws(() => formatDuration(Number.NaN), RangeError)
})

test('the limits of a normalized function are in milliseconds and MiB', () => {
  const fn = validateFunction({
    apiVersion: 'roost.dev/v1',
    kind: 'Function',
    metadata: { name: 'hello' },
    spec: { source: './hello.ts', timeout: '2m', memory: '1Gi', scale: { max: 4, window: '30s' } }
  })
  assert.deepEqual(resolveLimits(fn.spec), {
    timeoutMs: 120_000,
    memoryMiB: 1024,
    concurrency: 100,
    scale: { min: 0, max: 4, metrics: [{ metric: 'concurrency', target: 10 }], utilization: 0.7, windowMs: 30_000, scaleDownDelayMs: 30_000, schedule: [] }
  })
})
