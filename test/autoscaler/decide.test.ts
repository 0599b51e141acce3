import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decide, instancesFor, newScaleMemory, type ScaleInputs, type ScalePolicy } from '../../src/autoscaler/index.js'

const policy: ScalePolicy = {
  min: 0,
  max: 10,
  metrics: [{ metric: 'concurrency', target: 10 }],
  utilization: 0.7,
  windowMs: 60_000,
  scaleDownDelayMs: 30_000,
  instanceConcurrency: 100
}

function inputs (over: Partial<ScaleInputs> & { concurrency?: number, panicConcurrency?: number }): ScaleInputs {
  const concurrency = over.concurrency ?? 0
  return {
    now: over.now ?? 1_000_000,
    current: over.current ?? 1,
    floor: over.floor ?? 0,
    stable: over.stable ?? { concurrency, rps: 0 },
    panic: over.panic ?? { concurrency: over.panicConcurrency ?? concurrency, rps: 0 },
    idleMs: over.idleMs ?? 0
  }
}

describe('instancesFor', () => {
  test('is ceil(observed / (target × utilization))', () => {
    assert.equal(instancesFor(policy, { concurrency: 7, rps: 0 }), 1)
    assert.equal(instancesFor(policy, { concurrency: 7.01, rps: 0 }), 2)
    assert.equal(instancesFor(policy, { concurrency: 31.2, rps: 0 }), 5)
    assert.equal(instancesFor(policy, { concurrency: 0, rps: 0 }), 0)
  })

  test('with several metrics the largest count wins', () => {
    const both: ScalePolicy = { ...policy, metrics: [{ metric: 'concurrency', target: 10 }, { metric: 'rps', target: 100 }] }
    assert.equal(instancesFor(both, { concurrency: 7, rps: 700 }), 10)
    assert.equal(instancesFor(both, { concurrency: 70, rps: 7 }), 10)
    assert.equal(instancesFor(both, { concurrency: 14, rps: 70 }), 2)
  })

  test('a queue backlog is divided by its target as it is, without utilization: ⌈backlog / target⌉', () => {
    const queue: ScalePolicy = { ...policy, metrics: [{ metric: 'queue', target: 10 }] }
    assert.equal(instancesFor(queue, { concurrency: 0, rps: 0, queue: 10 }), 1)
    assert.equal(instancesFor(queue, { concurrency: 0, rps: 0, queue: 11 }), 2)
    assert.equal(instancesFor(queue, { concurrency: 0, rps: 0, queue: 437 }), 44)
    assert.equal(instancesFor(queue, { concurrency: 0, rps: 0 }), 0, 'no queue reported: nothing asked')
  })

  test('queue and concurrency together: the largest count wins', () => {
    const both: ScalePolicy = { ...policy, metrics: [{ metric: 'concurrency', target: 10 }, { metric: 'queue', target: 5 }] }
    assert.equal(instancesFor(both, { concurrency: 70, rps: 0, queue: 5 }), 10)
    assert.equal(instancesFor(both, { concurrency: 7, rps: 0, queue: 30 }), 6)
  })

  test('float noise in an average does not ask for one more instance', () => {
    assert.equal(instancesFor(policy, { concurrency: 0.1 * 3 * 70 / 3 * 10 / 10, rps: 0 }), 1)
  })
})

describe('decide', () => {
  test('scales up at once to the stable-window count', () => {
    const d = decide(policy, inputs({ current: 1, concurrency: 31, panicConcurrency: 7 }), newScaleMemory())
    assert.equal(d.desired, 5)
    assert.equal(d.reason, 'stable')
    assert.equal(d.panic, false)
  })

  test('clamps to max and to the floor', () => {
    assert.equal(decide(policy, inputs({ current: 2, concurrency: 1000 }), newScaleMemory()).desired, 10)
    const floor = decide(policy, inputs({ current: 1, concurrency: 1, floor: 4 }), newScaleMemory())
    assert.equal(floor.desired, 4)
    assert.equal(floor.reason, 'floor')
  })

  test('a current count above a lowered max drops to max at once', () => {
    const d = decide({ ...policy, max: 3 }, inputs({ current: 8, concurrency: 70 }), newScaleMemory())
    assert.deepEqual([d.desired, d.reason], [3, 'max'])
  })

  test('panics when the panic window asks for twice the current count, and scales on it', () => {
    const memory = newScaleMemory()
    const d = decide(policy, inputs({ current: 2, concurrency: 10, panicConcurrency: 28 }), memory)
    assert.equal(d.panic, true)
    assert.equal(d.reason, 'panic')
    assert.equal(d.desired, 4)
    assert.equal(memory.panicUntil, 1_000_000 + policy.windowMs)
  })

  test('does not panic below twice the current count', () => {
    const d = decide(policy, inputs({ current: 2, concurrency: 10, panicConcurrency: 21 }), newScaleMemory())
    assert.equal(d.panic, false)
    assert.equal(d.desired, 2)
  })

  test('does not scale down while panicking, even when demand falls', () => {
    const memory = newScaleMemory()
    decide(policy, inputs({ current: 2, concurrency: 10, panicConcurrency: 60 }), memory)
    const later = decide(policy, inputs({ now: 1_000_000 + 40_000, current: 9, concurrency: 1, panicConcurrency: 1 }), memory)
    assert.equal(later.panic, true)
    assert.equal(later.desired, 9)
    const after = decide(policy, inputs({ now: 1_000_000 + 61_000, current: 9, concurrency: 1, panicConcurrency: 1 }), memory)
    assert.equal(after.panic, false)
  })

  test('scales down only after scaleDownDelay of lower demand, at most halving per step', () => {
    const memory = newScaleMemory()
    const start = 1_000_000
    const first = decide(policy, inputs({ now: start, current: 8, concurrency: 7 }), memory)
    assert.deepEqual([first.desired, first.reason], [8, 'hold'])
    const before = decide(policy, inputs({ now: start + 29_000, current: 8, concurrency: 7 }), memory)
    assert.equal(before.desired, 8)
    const at = decide(policy, inputs({ now: start + 30_000, current: 8, concurrency: 7 }), memory)
    assert.deepEqual([at.desired, at.reason], [4, 'scale-down'])
    const next = decide(policy, inputs({ now: start + 31_000, current: 4, concurrency: 7 }), memory)
    assert.equal(next.desired, 2)
    const last = decide(policy, inputs({ now: start + 32_000, current: 2, concurrency: 7 }), memory)
    assert.equal(last.desired, 1)
  })

  test('demand back at the current level restarts the scale-down delay', () => {
    const memory = newScaleMemory()
    decide(policy, inputs({ now: 0, current: 4, concurrency: 7 }), memory)
    decide(policy, inputs({ now: 20_000, current: 4, concurrency: 28 }), memory)
    const d = decide(policy, inputs({ now: 35_000, current: 4, concurrency: 7 }), memory)
    assert.equal(d.desired, 4)
  })

  test('a version with recent requests keeps one instance however low its average', () => {
    const d = decide(policy, inputs({ current: 1, concurrency: 0, idleMs: 29_000 }), newScaleMemory())
    assert.equal(d.desired, 1)
  })

  test('idle for scaleDownDelay with min 0 goes to zero at once, without waiting out the window', () => {
    const memory = newScaleMemory()
    const d = decide(policy, inputs({ current: 3, concurrency: 2.5, idleMs: 30_000 }), memory)
    // The stable average still says 1, but no request came for the delay.
    assert.deepEqual([d.desired, d.reason], [0, 'idle'])
  })

  test('idle with a floor goes down to the floor through the normal delay', () => {
    const memory = newScaleMemory()
    const first = decide(policy, inputs({ now: 0, current: 3, floor: 1, idleMs: 30_000 }), memory)
    assert.equal(first.desired, 3)
    const later = decide(policy, inputs({ now: 30_000, current: 3, floor: 1, idleMs: 60_000 }), memory)
    assert.equal(later.desired, 2)
  })

  test('idleness ends panic mode', () => {
    const memory = newScaleMemory()
    decide(policy, inputs({ now: 0, current: 1, concurrency: 5, panicConcurrency: 50 }), memory)
    const d = decide(policy, inputs({ now: 31_000, current: 8, concurrency: 5, panicConcurrency: 0, idleMs: 30_000 }), memory)
    assert.equal(d.panic, false)
    assert.equal(d.desired, 0)
  })

  test('scales on rps when that is the metric', () => {
    const rps: ScalePolicy = { ...policy, metrics: [{ metric: 'rps', target: 50 }], utilization: 1 }
    const d = decide(rps, inputs({ current: 1, stable: { concurrency: 1, rps: 420 }, panic: { concurrency: 1, rps: 420 } }), newScaleMemory())
    assert.equal(d.desired, 9)
  })
})
