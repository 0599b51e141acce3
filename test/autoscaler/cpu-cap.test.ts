import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decide, describeCap, judgeAfterMs, newScaleMemory, probeJudgeMs, type CpuInputs, type ScaleInputs, type ScalePolicy } from '../../src/autoscaler/index.js'

// The defaults of a function spec: target 10 at 70 %, a 60 s window (6 s panic window), 30 s delay.
const policy: ScalePolicy = {
  min: 0,
  max: 10,
  metrics: [{ metric: 'concurrency', target: 10 }],
  utilization: 0.7,
  windowMs: 60_000,
  scaleDownDelayMs: 30_000,
  instanceConcurrency: 100
}
const T0 = 1_000_000
const JUDGE = judgeAfterMs(policy.windowMs)
const PROBE = probeJudgeMs(policy.windowMs)

interface Step { now?: number, current: number, concurrency: number, panicConcurrency?: number, rps?: number, floor?: number, cpu?: CpuInputs, lastConcurrency?: number }

function inputs (step: Step): ScaleInputs {
  const panic = step.panicConcurrency ?? step.concurrency
  return {
    now: step.now ?? T0,
    current: step.current,
    floor: step.floor ?? 0,
    stable: { concurrency: step.concurrency, rps: step.rps ?? 0 },
    panic: { concurrency: panic, rps: step.rps ?? 0 },
    idleMs: 0,
    ...(step.lastConcurrency === undefined ? {} : { lastConcurrency: step.lastConcurrency }),
    ...(step.cpu === undefined ? {} : { cpu: step.cpu })
  }
}

// CPU-bound instances on a saturated 2-core machine, and the same instances waiting on I/O.
const saturated: CpuInputs = { cores: 2, machineBusy: 0.97, elu: 0.92, cpuCores: 1.9 }
const ioBound: CpuInputs = { cores: 2, machineBusy: 0.99, elu: 0.05, cpuCores: 0.1 }
const cpuFree: CpuInputs = { cores: 2, machineBusy: 0.6, elu: 0.95, cpuCores: 1 }

describe('the CPU cap', () => {
  test('judges a scale-up two panic windows after it, at least 5 s, and a trial scale-down one panic window and a second after it', () => {
    assert.equal(JUDGE, 12_000)
    assert.equal(judgeAfterMs(10_000), 5_000)
    assert.equal(PROBE, 7_000)
    assert.equal(probeJudgeMs(10_000), 2_000)
  })

  test('a CPU-bound version on a saturated machine does not grow, and the decision says why', () => {
    const d = decide(policy, inputs({ current: 2, concurrency: 20, cpu: saturated }), newScaleMemory())
    assert.deepEqual(d, {
      desired: 2,
      reason: 'capped',
      panic: false,
      stableWant: 3,
      panicWant: 3,
      cap: { limit: 2, bound: 'cores', usage: saturated, noGain: null },
      limited: true
    })
    assert.equal(describeCap(d.cap!), "capped at 2: the machine's CPU is saturated (cpu 97% of 2 cores; instances' event loops 92% busy; they use 1.9 cores)")
  })

  test('an I/O-bound version on a saturated machine scales as it does without the reports', () => {
    for (const step of [{ current: 1, concurrency: 40 }, { current: 2, concurrency: 31, panicConcurrency: 7 }]) {
      const withReports = decide(policy, inputs({ ...step, cpu: ioBound }), newScaleMemory())
      const without = decide(policy, inputs(step), newScaleMemory())
      assert.deepEqual(withReports, without)
    }
    assert.deepEqual([decide(policy, inputs({ current: 1, concurrency: 40, cpu: ioBound }), newScaleMemory()).desired], [6])
  })

  test('a CPU-bound version on a machine with free CPU scales out', () => {
    const d = decide(policy, inputs({ current: 1, concurrency: 31, panicConcurrency: 7, cpu: cpuFree }), newScaleMemory())
    assert.deepEqual([d.desired, d.reason, d.cap, d.limited], [5, 'stable', null, false])
  })

  test('a large machine at 90 % still has a core free for one more instance', () => {
    const large = (busy: number): CpuInputs => ({ cores: 16, machineBusy: busy, elu: 0.95, cpuCores: 2 })
    const free = decide(policy, inputs({ current: 2, concurrency: 20, cpu: large(0.92) }), newScaleMemory())
    assert.deepEqual([free.desired, free.reason, free.cap], [3, 'stable', null])
    const full = decide(policy, inputs({ current: 2, concurrency: 20, cpu: large(0.95) }), newScaleMemory())
    assert.deepEqual([full.desired, full.reason, full.cap?.limit], [2, 'capped', 2])
  })

  test('instances the cores cannot keep busy are removed through the scale-down delay, even in panic mode', () => {
    // Five instances get 1.1 cores between them: one instance keeps that busy.
    const usage: CpuInputs = { cores: 2, machineBusy: 0.97, elu: 0.9, cpuCores: 1.1 }
    const run = (cpu?: CpuInputs): Array<[number, number, string, boolean]> => {
      const memory = newScaleMemory()
      // A burst a second ago panicked the version up to 5.
      decide(policy, inputs({ now: T0 - 1000, current: 1, concurrency: 5, panicConcurrency: 32 }), memory)
      let current = 5
      return [T0, T0 + 29_000, T0 + 30_000, T0 + 31_000, T0 + 32_000].map((now) => {
        const d = decide(policy, inputs({ now, current, concurrency: 32, ...(cpu === undefined ? {} : { cpu }) }), memory)
        current = d.desired
        return [now - T0, d.desired, d.reason, d.panic]
      })
    }
    assert.deepEqual(run(), [[0, 5, 'hold', true], [29_000, 5, 'hold', true], [30_000, 5, 'hold', true], [31_000, 5, 'hold', true], [32_000, 5, 'hold', true]])
    assert.deepEqual(run(usage), [[0, 5, 'capped', true], [29_000, 5, 'capped', true], [30_000, 3, 'capped', true], [31_000, 2, 'capped', true], [32_000, 1, 'capped', true]])
  })

  test('a scale-up that added no throughput on a saturated machine is undone after two panic windows, and not tried again', () => {
    const memory = newScaleMemory()
    // 4 cores, at 80 %: not saturated yet, so 2 → 3.
    const before: CpuInputs = { cores: 4, machineBusy: 0.8, elu: 0.9, cpuCores: 1.8 }
    const after: CpuInputs = { cores: 4, machineBusy: 0.95, elu: 0.9, cpuCores: 2.9 }
    const up = decide(policy, inputs({ now: T0, current: 2, concurrency: 20, rps: 100, cpu: before }), memory)
    assert.deepEqual([up.desired, up.reason], [3, 'stable'])
    const waiting = decide(policy, inputs({ now: T0 + JUDGE - 1, current: 3, concurrency: 20, rps: 104, cpu: after }), memory)
    assert.deepEqual([waiting.desired, waiting.reason, waiting.cap?.limit], [3, 'hold', 3])
    const undo = decide(policy, inputs({ now: T0 + JUDGE, current: 3, concurrency: 20, rps: 104, cpu: after }), memory)
    assert.deepEqual([undo.desired, undo.reason, undo.limited], [2, 'undo', true])
    assert.deepEqual(undo.cap, { limit: 2, bound: 'cores', usage: after, noGain: { from: 2, tried: 3, rps: [100, 104], concurrency: [20, 20] } })
    assert.equal(describeCap(undo.cap!), "capped at 2: the machine's CPU is saturated (cpu 95% of 4 cores; instances' event loops 90% busy; they use 2.9 cores); 3 instances served no more than 2 (rps 104 with 3, 100 with 2; concurrency 20, 20)")
    const next = decide(policy, inputs({ now: T0 + JUDGE + 1000, current: 2, concurrency: 20, rps: 104, cpu: after }), memory)
    assert.deepEqual([next.desired, next.reason, next.cap?.limit], [2, 'capped', 2])
  })

  test('a scale-up that served more, or left fewer requests waiting, is kept', () => {
    const before: CpuInputs = { cores: 4, machineBusy: 0.8, elu: 0.9, cpuCores: 1.8 }
    const after: CpuInputs = { cores: 4, machineBusy: 0.95, elu: 0.9, cpuCores: 2.9 }
    for (const [rps, concurrency] of [[110, 20], [100, 18]]) {
      const memory = newScaleMemory()
      decide(policy, inputs({ now: T0, current: 2, concurrency: 20, rps: 100, cpu: before }), memory)
      const judged = decide(policy, inputs({ now: T0 + JUDGE, current: 3, concurrency, rps, cpu: after }), memory)
      assert.deepEqual([judged.desired, judged.reason], [3, 'hold'], `rps ${rps}, concurrency ${concurrency}`)
      assert.equal(memory.cpu.trial, null, 'judged once')
    }
  })

  test('an I/O-bound version is never undone, whatever its throughput', () => {
    const memory = newScaleMemory()
    decide(policy, inputs({ now: T0, current: 2, concurrency: 20, rps: 100, cpu: ioBound }), memory)
    const judged = decide(policy, inputs({ now: T0 + JUDGE, current: 3, concurrency: 20, rps: 100, cpu: ioBound }), memory)
    assert.deepEqual([judged.desired, judged.reason, judged.cap], [3, 'hold', null])
  })

  test('the cap ends only once the machine has clear headroom, and then the version grows again', () => {
    const memory = newScaleMemory()
    const at = (busy: number): CpuInputs => ({ ...saturated, machineBusy: busy })
    assert.equal(decide(policy, inputs({ now: T0, current: 2, concurrency: 20, cpu: at(0.9) }), memory).reason, 'capped')
    assert.equal(decide(policy, inputs({ now: T0 + 1000, current: 2, concurrency: 20, cpu: at(0.8) }), memory).reason, 'capped')
    const freed = decide(policy, inputs({ now: T0 + 2000, current: 2, concurrency: 20, cpu: at(0.7) }), memory)
    assert.deepEqual([freed.desired, freed.reason, freed.cap], [3, 'stable', null])
    // Not capped again below the saturation threshold itself.
    assert.equal(decide(policy, inputs({ now: T0 + 3000, current: 3, concurrency: 30, cpu: at(0.89) }), memory).desired, 5)
  })

  test('a scale-up in panic mode is undone too, and panic then does not grow the count past the cap', () => {
    const memory = newScaleMemory()
    const burst = decide(policy, inputs({ now: T0, current: 1, concurrency: 5, panicConcurrency: 40, rps: 5000, cpu: cpuFree }), memory)
    assert.deepEqual([burst.desired, burst.reason, burst.panic], [6, 'panic', true])
    const usage: CpuInputs = { cores: 2, machineBusy: 0.98, elu: 0.95, cpuCores: null }
    const held = decide(policy, inputs({ now: T0 + 1000, current: 6, concurrency: 10, panicConcurrency: 40, rps: 5000, cpu: usage }), memory)
    assert.deepEqual([held.desired, held.reason, held.panic, held.cap?.limit], [6, 'hold', true, 6])
    const undo = decide(policy, inputs({ now: T0 + JUDGE, current: 6, concurrency: 30, panicConcurrency: 40, rps: 4900, cpu: usage }), memory)
    assert.deepEqual([undo.desired, undo.reason, undo.panic], [1, 'undo', true])
    const after = decide(policy, inputs({ now: T0 + JUDGE + 1000, current: 1, concurrency: 30, panicConcurrency: 40, rps: 4900, cpu: usage }), memory)
    assert.deepEqual([after.desired, after.reason, after.panic, after.panicWant], [1, 'capped', true, 6])
  })

  // A light handler behind a busy gateway on 2 cores: the machine short of 90 % (the threads hand off to one another), the instances' loops far from busy.
  const behindBusyGateway: CpuInputs = { cores: 2, machineBusy: 0.79, elu: 0.25, cpuCores: 0.6, proxyElu: 0.85 }
  // The same machine before the gateway got busy: not contended.
  const beforeContention: CpuInputs = { ...behindBusyGateway, proxyElu: 0.3 }

  test('behind a busy gateway on contended cores, a light handler does not grow past what its CPU use keeps busy, and the decision says why', () => {
    const d = decide(policy, inputs({ current: 1, concurrency: 5, panicConcurrency: 32, rps: 30_000, cpu: behindBusyGateway }), newScaleMemory())
    // Panic asks for 5; the instances use 0.6 cores between them, which one instance keeps busy.
    assert.deepEqual([d.desired, d.reason, d.panic, d.panicWant, d.limited], [1, 'capped', true, 5, true])
    assert.deepEqual(d.cap, { limit: 1, bound: 'contended', usage: behindBusyGateway, noGain: null })
    assert.equal(describeCap(d.cap!), "capped at 1: the machine's CPU is contended (cpu 79% of 2 cores; instances' event loops 25% busy; they use 0.6 cores; the gateway's 85%)")
  })

  test('on contended cores, a count above the limit is not cut at once, nor through the scale-down delay', () => {
    const memory = newScaleMemory()
    const counts = [0, 1000, 6000].map((t) => decide(policy, inputs({ now: T0 + t, current: 3, concurrency: 32, rps: 50_000, cpu: behindBusyGateway }), memory))
    assert.deepEqual(counts.map((d) => [d.desired, d.reason, d.cap?.limit]), [[3, 'capped', 1], [3, 'capped', 1], [3, 'capped', 1]])
    const late = decide(policy, inputs({ now: T0 + 6000, current: 3, concurrency: 32, rps: 50_000, cpu: { ...behindBusyGateway, cpuCores: null } }), newScaleMemory())
    assert.deepEqual([late.desired, late.cap?.limit], [3, 3], 'until the CPU use is known the count holds')
  })

  test('on contended cores, instances the CPU does not keep busy are removed one at a time, each kept once it served as much', () => {
    const memory = newScaleMemory()
    const step = (t: number, current: number, rps: number) => decide(policy, inputs({ now: T0 + t, current, concurrency: 32, rps, cpu: behindBusyGateway }), memory)
    // The averages first reflect three instances for a panic window.
    assert.deepEqual([step(0, 3, 50_000).desired, step(PROBE - 1, 3, 50_000).desired], [3, 3])
    const first = step(PROBE, 3, 50_000)
    assert.deepEqual([first.desired, first.reason, first.limited], [2, 'probe', true])
    assert.deepEqual([step(PROBE + 1000, 2, 50_500).desired, step(2 * PROBE - 1, 2, 50_500).desired], [2, 2])
    // Two served as much as three: kept, held as a ceiling, and the next one is tried at once.
    const second = step(2 * PROBE, 2, 51_000)
    assert.deepEqual([second.desired, second.reason], [1, 'probe'])
    assert.deepEqual(second.cap?.noGain, { from: 2, tried: 3, rps: [51_000, 50_000], concurrency: [32, 32] })
    const last = step(3 * PROBE, 1, 53_000)
    assert.deepEqual([last.desired, last.reason, last.cap?.limit], [1, 'capped', 1])
    assert.equal(describeCap(last.cap!), "capped at 1: the machine's CPU is contended (cpu 79% of 2 cores; instances' event loops 25% busy; they use 0.6 cores; the gateway's 85%); 2 instances served no more than 1 (rps 51000 with 2, 53000 with 1; concurrency 32, 32)")
    // One instance is the least a version under load keeps.
    assert.deepEqual([step(5 * PROBE, 1, 53_000).desired, memory.cpu.probe], [1, null])
  })

  test('a trial scale-down that served less with as many requests open is undone, and not tried again for five minutes', () => {
    const memory = newScaleMemory()
    const step = (t: number, current: number, rps: number, concurrency = 32) => decide(policy, inputs({ now: T0 + t, current, concurrency, rps, cpu: behindBusyGateway }), memory)
    step(0, 3, 50_000)
    assert.equal(step(PROBE, 3, 50_000).reason, 'probe')
    // Requests wait longer with one instance fewer (an open load keeps arriving): served less, more open.
    const restore = step(2 * PROBE, 2, 44_000, 40)
    assert.deepEqual([restore.desired, restore.reason, restore.limited], [3, 'restore', false])
    const held = step(3 * PROBE, 3, 50_000)
    assert.deepEqual([held.desired, held.reason, held.cap?.limit], [3, 'capped', 3])
    assert.equal(step(2 * PROBE + 300_000 - 1, 3, 50_000).desired, 3)
    const again = step(2 * PROBE + 300_000, 3, 50_000)
    assert.deepEqual([again.desired, again.reason], [2, 'probe'])
  })

  test('a trial scale-down during which the load went away is kept, and teaches no ceiling', () => {
    const memory = newScaleMemory()
    decide(policy, inputs({ now: T0, current: 3, concurrency: 32, rps: 50_000, cpu: behindBusyGateway }), memory)
    assert.equal(decide(policy, inputs({ now: T0 + PROBE, current: 3, concurrency: 32, rps: 50_000, cpu: behindBusyGateway }), memory).reason, 'probe')
    const judged = decide(policy, inputs({ now: T0 + 2 * PROBE, current: 2, concurrency: 32, panicConcurrency: 1, rps: 2_000, cpu: behindBusyGateway }), memory)
    assert.deepEqual([judged.desired, memory.cpu.ceiling], [2, null])
  })

  test('one instance fewer is never tried on a version without work for each instance, at its floor, or short of the slots its open requests need', () => {
    const cases: Array<[Step, string]> = [
      [{ current: 3, concurrency: 2, rps: 100, cpu: behindBusyGateway }, 'fewer requests open than instances'],
      [{ current: 3, concurrency: 32, rps: 50_000, floor: 3, cpu: behindBusyGateway }, 'at its floor'],
      [{ current: 3, concurrency: 250, rps: 50_000, cpu: behindBusyGateway }, '250 requests open at 100 each']
    ]
    for (const [step, why] of cases) {
      const memory = newScaleMemory()
      const ds = [0, PROBE, 2 * PROBE].map((t) => decide(policy, inputs({ ...step, now: T0 + t }), memory))
      assert.deepEqual(ds.map((d) => d.reason === 'probe'), [false, false, false], why)
    }
  })

  test('a scale-up from before the contention that added no throughput is undone and held, and the decision says why', () => {
    const memory = newScaleMemory()
    const up = decide(policy, inputs({ now: T0, current: 1, concurrency: 5, panicConcurrency: 32, rps: 30_000, cpu: beforeContention }), memory)
    assert.deepEqual([up.desired, up.reason, up.cap], [5, 'panic', null])
    const served = decide(policy, inputs({ now: T0 + JUDGE, current: 5, concurrency: 32, rps: 27_000, cpu: behindBusyGateway }), memory)
    assert.deepEqual([served.desired, served.reason, served.limited], [1, 'undo', true])
    assert.deepEqual(served.cap, { limit: 1, bound: 'contended', usage: behindBusyGateway, noGain: { from: 1, tried: 5, rps: [30_000, 27_000], concurrency: [32, 32] } })
    assert.equal(describeCap(served.cap!), "capped at 1: the machine's CPU is contended (cpu 79% of 2 cores; instances' event loops 25% busy; they use 0.6 cores; the gateway's 85%); 5 instances served no more than 1 (rps 27000 with 5, 30000 with 1; concurrency 32, 32)")
    const held = decide(policy, inputs({ now: T0 + JUDGE + 1000, current: 1, concurrency: 32, rps: 30_000, cpu: behindBusyGateway }), memory)
    assert.deepEqual([held.desired, held.reason, held.panic, held.cap?.limit], [1, 'capped', true, 1])
  })

  test('behind a busy gateway, instances with busy loops grow by one, and a scale-up that served more is kept', () => {
    const memory = newScaleMemory()
    const busyLoops: CpuInputs = { ...behindBusyGateway, elu: 0.9, cpuCores: 1 }
    const up = decide(policy, inputs({ now: T0, current: 1, concurrency: 5, panicConcurrency: 32, rps: 20_000, cpu: busyLoops }), memory)
    assert.deepEqual([up.desired, up.reason, up.cap?.limit, up.limited], [2, 'panic', 2, true])
    const judged = decide(policy, inputs({ now: T0 + JUDGE, current: 2, concurrency: 32, rps: 22_500, cpu: { ...busyLoops, cpuCores: 1.9 } }), memory)
    assert.deepEqual([judged.desired, judged.reason, memory.cpu.trial, memory.cpu.ceiling], [3, 'panic', { at: T0 + JUDGE, from: 2, rps: 22_500, concurrency: 32 }, null])
  })

  test('an I/O-bound version behind an idle gateway is never undone, however busy the machine', () => {
    const memory = newScaleMemory()
    const cpu: CpuInputs = { ...ioBound, proxyElu: 0.1 }
    decide(policy, inputs({ now: T0, current: 2, concurrency: 20, rps: 100, cpu }), memory)
    const judged = decide(policy, inputs({ now: T0 + JUDGE, current: 3, concurrency: 20, rps: 100, cpu }), memory)
    assert.deepEqual([judged.desired, judged.reason, judged.cap], [3, 'hold', null])
  })

  test('the count a busy gateway held is let go once the gateway or the machine has clear headroom, and what was learned with it', () => {
    for (const freed of [{ ...behindBusyGateway, proxyElu: 0.45 }, { ...behindBusyGateway, machineBusy: 0.5 }]) {
      const memory = newScaleMemory()
      decide(policy, inputs({ now: T0, current: 1, concurrency: 5, panicConcurrency: 32, rps: 30_000, cpu: beforeContention }), memory)
      decide(policy, inputs({ now: T0 + JUDGE, current: 5, concurrency: 32, rps: 30_000, cpu: behindBusyGateway }), memory)
      // Inside the hysteresis the hold stays.
      const between = decide(policy, inputs({ now: T0 + JUDGE + 1000, current: 1, concurrency: 32, rps: 30_000, cpu: { ...behindBusyGateway, proxyElu: 0.6, machineBusy: 0.6 } }), memory)
      assert.deepEqual([between.desired, between.cap?.limit], [1, 1])
      // The ceiling holds until the version has worked on free cores for 5 s (a stop of its own load frees them at once).
      const free = [2000, 3000, 6000].map((t) => decide(policy, inputs({ now: T0 + JUDGE + t, current: 1, concurrency: 32, rps: 30_000, cpu: freed }), memory))
      assert.deepEqual(free.map((d) => [d.desired, d.cap?.limit]), [[1, 1], [1, 1], [1, 1]])
      const after = decide(policy, inputs({ now: T0 + JUDGE + 7000, current: 1, concurrency: 32, rps: 30_000, cpu: freed }), memory)
      assert.deepEqual([after.desired, after.cap, memory.cpu.ceiling, memory.cpu.needed, memory.cpu.probe], [5, null, null, null, null])
    }
  })

  test('a ceiling outlives the stop of the version\'s own load, which frees the cores at once', () => {
    const memory = newScaleMemory()
    decide(policy, inputs({ now: T0, current: 1, concurrency: 5, panicConcurrency: 32, rps: 30_000, cpu: beforeContention }), memory)
    decide(policy, inputs({ now: T0 + JUDGE, current: 5, concurrency: 32, rps: 30_000, cpu: behindBusyGateway }), memory)
    const idle: CpuInputs = { ...behindBusyGateway, machineBusy: 0.05, proxyElu: 0.02, elu: 0, cpuCores: 0 }
    // The load stops: the stable window still asks for 4 and the panic window for 3, but nothing is open now.
    for (let t = 1000; t <= 20_000; t += 1000) {
      const d = decide(policy, inputs({ now: T0 + JUDGE + t, current: 1, concurrency: 28, panicConcurrency: 20, rps: 0, cpu: idle, lastConcurrency: 0 }), memory)
      assert.deepEqual([d.desired, d.cap?.limit], [1, 1], `${t} ms after`)
    }
    // It comes back before the machine shows it contended again: still held.
    const back = decide(policy, inputs({ now: T0 + JUDGE + 21_000, current: 1, concurrency: 28, panicConcurrency: 32, rps: 30_000, cpu: idle }), memory)
    assert.deepEqual([back.desired, back.cap?.limit], [1, 1])
  })

  test('the floor is kept under the cap, and an undo never goes below it', () => {
    const d = decide(policy, inputs({ current: 1, concurrency: 5, floor: 3, cpu: saturated }), newScaleMemory())
    assert.deepEqual([d.desired, d.reason, d.cap?.limit], [3, 'floor', 3])
    const memory = newScaleMemory()
    decide(policy, inputs({ now: T0, current: 1, concurrency: 40, rps: 100, cpu: cpuFree }), memory)
    const undo = decide(policy, inputs({ now: T0 + JUDGE, current: 6, concurrency: 40, rps: 100, floor: 2, cpu: { ...saturated, cpuCores: null } }), memory)
    assert.deepEqual([undo.desired, undo.reason], [2, 'undo'])
  })

  test('without the reports the rules are those of before, and what the cap learned is forgotten', () => {
    const memory = newScaleMemory()
    assert.equal(decide(policy, inputs({ now: T0, current: 2, concurrency: 20, cpu: saturated }), memory).reason, 'capped')
    assert.equal(memory.cpu.capped, true)
    const d = decide(policy, inputs({ now: T0 + 1000, current: 2, concurrency: 20 }), memory)
    assert.deepEqual(d, { desired: 3, reason: 'stable', panic: false, stableWant: 3, panicWant: 3, cap: null, limited: false })
    assert.deepEqual(memory.cpu, { capped: false, contended: false, ceiling: null, trial: null, probe: null, needed: null, count: 2, countSince: T0, freeSince: null })
    // Reports that come back start from nothing: a CPU-bound version on a free machine grows.
    const back = decide(policy, inputs({ now: T0 + 2000, current: 3, concurrency: 40, panicConcurrency: 7, cpu: cpuFree }), memory)
    assert.equal(back.desired, 6)
  })
})
