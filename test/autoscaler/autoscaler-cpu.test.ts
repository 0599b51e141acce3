import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Autoscaler, type ScaledVersion, type ScalingDecision } from '../../src/autoscaler/index.js'

const KEY = 'default/hello@1'
// Binary fractions, so that averages are exact: 97 % busy, event loops 91 % busy.
const BUSY = 0.96875
const ELU = 0.90625

function version (over: Partial<ScaledVersion['policy']> = {}): ScaledVersion {
  return {
    key: KEY,
    fn: { namespace: 'default', name: 'hello', version: 1 },
    policy: { min: 1, max: 10, metrics: [{ metric: 'concurrency', target: 10 }], utilization: 0.7, windowMs: 10_000, scaleDownDelayMs: 3_000, instanceConcurrency: 100, ...over },
    schedule: [],
    pin: 0
  }
}

interface Second {
  concurrency: number
  rps: number
  /** The machine's busy fraction of 2 cores; no reading when absent. */
  busy?: number
  /** The gateway thread's event-loop utilisation, reported with the machine's reading. */
  proxy?: number
  /** Pongs this second: instance id → [elu, cpuUs so far]. */
  pongs?: Record<string, [number, number]>
}

// A clock the test moves; each second the platform feeds the machine, the pongs and the gateway's report, then steps.
function harness (spec: ScaledVersion = version()) {
  let now = 1_000_000
  const scaled: number[] = []
  const decisions: ScalingDecision[] = []
  const held: ScalingDecision[] = []
  const autoscaler = new Autoscaler({ scale: (_key, n) => scaled.push(n) }, { onDecision: (d) => decisions.push(d), onCapped: (d) => held.push(d) }, { now: () => now })
  autoscaler.setVersions([spec])
  // Only the steps' decisions: not the move to the floor when the version is set.
  decisions.length = 0
  const second = ({ concurrency, rps, busy, proxy, pongs = {} }: Second): number => {
    now += 1000
    if (busy !== undefined) autoscaler.observeMachine({ at: now, cores: 2, busy, ...(proxy === undefined ? {} : { proxyElu: proxy }) })
    for (const [instanceId, [elu, cpuUs]] of Object.entries(pongs)) autoscaler.observeInstance({ versionKey: KEY, instanceId, at: now, elu, cpuUs })
    autoscaler.observe({ at: now, versions: [{ key: KEY, concurrency, rps, arrivals: rps, inFlight: 0, waiting: 0 }] })
    autoscaler.tick()
    return autoscaler.desired(KEY)
  }
  return { autoscaler, scaled, decisions, held, second, now: () => now }
}

// `count` instances, each having used `coresEach` of CPU for `seconds` seconds.
function pongs (count: number, elu: number, coresEach: number, seconds: number): Record<string, [number, number]> {
  const all: Record<string, [number, number]> = {}
  for (let i = 0; i < count; i++) all[`i${i}`] = [elu, coresEach * seconds * 1_000_000]
  return all
}

describe('Autoscaler with the machine CPU', () => {
  test('a CPU-light function under 32 connections on 2 saturated cores goes back to one instance, and says why', () => {
    const { autoscaler, scaled, decisions, held, second } = harness()
    // The burst comes before any pong: as today, panic takes it to 5.
    second({ concurrency: 32, rps: 5000, busy: BUSY })
    assert.deepEqual(scaled, [5])
    assert.equal(decisions[0].cap, null)
    assert.doesNotMatch(decisions[0].message, /capped/)
    // Five instances, each 3/16 of a core: 0.9375 cores between them keep one instance busy.
    const counts: number[] = []
    for (let s = 1; s <= 8; s++) counts.push(second({ concurrency: 32, rps: 5000, busy: BUSY, pongs: pongs(5, ELU, 0.1875, s) }))
    // Reports at 2 s (the first pong gives no CPU rate yet), capped from 3 s, the scale-down delay of 3 s, then halving.
    assert.deepEqual(counts, [5, 5, 5, 5, 3, 2, 1, 1])
    assert.deepEqual(scaled, [5, 3, 2, 1])
    assert.deepEqual(decisions.slice(1).map((d) => [d.from, d.to, d.reason, d.cap?.limit]), [[5, 3, 'capped', 1], [3, 2, 'capped', 1], [2, 1, 'capped', 1]])
    assert.equal(decisions[1].message, "v1: 5 → 3 instances (the CPU cap; concurrency 32 over 10s, 32 over 1s / (10 × 0.7); wants 5 stable, 5 panic; floor 1, max 10; panic mode on; capped at 1: the machine's CPU is saturated (cpu 97% of 2 cores; instances' event loops 91% busy; they use 0.9 cores))")
    // The hold before the delay is told once, through onCapped.
    assert.deepEqual(held.map((d) => [d.from, d.to, d.reason, d.cap?.limit]), [[5, 5, 'capped', 1]])
    const status = autoscaler.status(KEY)
    assert.deepEqual(status?.cpu, { cores: 2, machineBusy: BUSY, elu: ELU, cpuCores: 0.9375 })
    assert.equal(status?.cap?.limit, 1)
  })

  test('an I/O-bound function (the 50 ms handler) scales on a saturated machine exactly as without the reports', () => {
    const load = [...Array(10).fill(32), ...Array(40).fill(0)] as number[]
    const run = (withReports: boolean): { counts: number[], messages: string[] } => {
      const { second, decisions } = harness(version({ min: 0 }))
      const counts = load.map((concurrency, s) => second({
        concurrency,
        rps: concurrency * 20,
        ...(withReports ? { busy: 0.99, pongs: pongs(Math.max(1, Math.ceil(concurrency / 7)), 0.05, 0.03, s + 1) } : {})
      }))
      return { counts, messages: decisions.map((d) => d.message) }
    }
    const reported = run(true)
    assert.deepEqual(reported, run(false))
    assert.equal(Math.max(...reported.counts), 5, 'it scaled out')
    assert.equal(reported.counts.at(-1), 0)
  })

  test('hello world behind a busy gateway on 2 contended cores: the panic scale-up that served no more is undone, and says why', () => {
    const { scaled, decisions, second } = harness()
    // 79 % busy (the threads hand off to one another), the gateway's loop 84 % busy, each instance's a quarter.
    const contended = { busy: 0.78125, proxy: 0.84375 }
    // One instance reports (it pings every second) while a few callers come.
    for (let s = 1; s <= 3; s++) second({ concurrency: 4, rps: 5000, busy: 0.25, proxy: 0.125, pongs: pongs(1, 0.125, 0.125, s) })
    assert.deepEqual(scaled, [])
    // 32 connections: panic takes it to 5 while nothing is contended yet.
    second({ concurrency: 32, rps: 30_000, busy: 0.5, proxy: 0.5, pongs: pongs(1, 0.25, 0.125, 4) })
    assert.deepEqual(scaled, [5])
    const counts: number[] = []
    for (let s = 5; s <= 10; s++) counts.push(second({ concurrency: 32, rps: 28_000, ...contended, pongs: pongs(5, 0.25, 0.125, s) }))
    // Judged two panic windows (5 s at least) after the scale-up: five instances served no more than one.
    assert.deepEqual(counts, [5, 5, 5, 5, 1, 1])
    const undo = decisions.at(-1)
    assert.deepEqual([undo?.from, undo?.to, undo?.reason], [5, 1, 'undo'])
    assert.match(undo?.message ?? '', /capped at 1: the machine's CPU is contended \(cpu 78% of 2 cores; instances' event loops 25% busy; they use 0\.6 cores; the gateway's 84%\); 5 instances served no more than 1 \(rps 28000 with 5, 30000 with 1; concurrency 32, 32\)\)$/)
    assert.deepEqual(scaled, [5, 1])
  })

  test('hello world held at 3 on contended cores is taken down one instance at a time while each served as much, and a pause in its load keeps it there', () => {
    const { scaled, decisions, second } = harness()
    const contended = { busy: 0.8125, proxy: 0.90625 }
    // A burst before any report panics it to 3; the machine then shows contended, the instances using 0.375 cores between them.
    second({ concurrency: 18, rps: 50_000, busy: 0.25, proxy: 0.25 })
    assert.deepEqual(scaled, [3])
    const counts: number[] = []
    for (let s = 2; s <= 16; s++) {
      const rps = 50_000 + 5000 * (3 - (counts.at(-1) ?? 3))
      counts.push(second({ concurrency: 18, rps, ...contended, pongs: pongs(counts.at(-1) ?? 3, 0.15, 0.125, s) }))
    }
    // Judged 2 s (a 1 s panic window and a second) after each removal; the scale-up's own trial (5 s) first.
    assert.deepEqual(scaled, [3, 2, 1])
    assert.deepEqual(decisions.slice(1).map((d) => [d.from, d.to, d.reason]), [[3, 2, 'probe'], [2, 1, 'probe']])
    assert.match(decisions[1].message, /^v1: 3 → 2 instances \(one instance fewer is tried: the CPU the instances use keeps fewer busy; .*capped at 1: the machine's CPU is contended \(cpu 81% of 2 cores; .*the gateway's 91%\)\)$/)
    assert.equal(counts.at(-1), 1)
    // Its load stops for 10 s and comes back: the stable window still asks for more, the count stays.
    for (let s = 17; s <= 26; s++) second({ concurrency: 0, rps: 0, busy: 0.03125, proxy: 0.03125, pongs: pongs(1, 0, 0, s) })
    for (let s = 27; s <= 30; s++) second({ concurrency: 18, rps: 60_000, ...contended, pongs: pongs(1, 0.3, 0.25, s) })
    assert.deepEqual(scaled, [3, 2, 1])
  })

  test('a scale-up that added no throughput is undone after two panic windows (5 s at least)', () => {
    const { scaled, decisions, second } = harness()
    for (let s = 1; s <= 3; s++) second({ concurrency: 6, rps: 1000, busy: 0.8, pongs: { i0: [ELU, s * 937_500] } })
    // Twice the load panics to 2 instances while the machine still has CPU.
    second({ concurrency: 14, rps: 1000, busy: 0.8, pongs: { i0: [ELU, 4 * 937_500] } })
    assert.deepEqual(scaled, [2])
    const counts: number[] = []
    for (let s = 5; s <= 10; s++) counts.push(second({ concurrency: 14, rps: 1020, busy: BUSY, pongs: { i0: [ELU, s * 937_500], i1: [ELU, (s - 4) * 500_000] } }))
    assert.deepEqual(counts, [2, 2, 2, 2, 1, 1])
    const undo = decisions.at(-1)
    assert.deepEqual([undo?.from, undo?.to, undo?.reason], [2, 1, 'undo'])
    assert.match(undo?.message ?? '', /^v1: 2 → 1 instances \(a scale-up added no throughput; .*; panic mode on; capped at 1: the machine's CPU is saturated \(cpu 97% of 2 cores; instances' event loops 91% busy; they use 1\.4 cores\); 2 instances served no more than 1 \(rps 1020 with 2, 1000 with 1; concurrency 14, 14\)\)$/)
    assert.deepEqual(scaled, [2, 1])
  })

  test('reports that stop coming, from the instances or the machine, leave the rules of before', () => {
    const { decisions, second } = harness(version({ min: 2 }))
    second({ concurrency: 20, rps: 100, busy: BUSY, pongs: { i0: [ELU, 1000], i1: [ELU, 1000] } })
    assert.equal(decisions.length, 0, 'capped at 2')
    for (let s = 2; s <= 21; s++) second({ concurrency: 20, rps: 100, busy: BUSY })
    assert.equal(decisions.length, 0, 'a pong 20 s old still counts')
    second({ concurrency: 20, rps: 100, busy: BUSY })
    assert.deepEqual(decisions.map((d) => [d.from, d.to, d.reason, d.cap]), [[2, 3, 'stable', null]])

    const machine = harness(version({ min: 2 }))
    for (let s = 1; s <= 3; s++) machine.second({ concurrency: 20, rps: 100, ...(s === 1 ? { busy: BUSY } : {}), pongs: { i0: [ELU, s * 1000] } })
    for (let s = 4; s <= 6; s++) machine.second({ concurrency: 20, rps: 100, pongs: { i0: [ELU, s * 1000] } })
    assert.equal(machine.decisions.length, 0, 'a machine reading 5 s old still counts')
    for (let s = 7; s <= 7; s++) machine.second({ concurrency: 20, rps: 100, pongs: { i0: [ELU, s * 1000] } })
    assert.deepEqual(machine.decisions.map((d) => [d.to, d.reason]), [[3, 'stable']])
    assert.equal(machine.autoscaler.status(KEY)?.cpu, null)
  })

  test('a stopped instance no longer counts once forgotten', () => {
    const { autoscaler, second } = harness(version({ min: 2 }))
    second({ concurrency: 10, rps: 100, busy: BUSY, pongs: { i0: [ELU, 1000], i1: [0.125, 1000] } })
    assert.equal(autoscaler.status(KEY)?.cpu?.elu, 0.515625)
    assert.equal(autoscaler.status(KEY)?.cap, null)
    autoscaler.forgetInstance('i1')
    second({ concurrency: 10, rps: 100, busy: BUSY })
    assert.equal(autoscaler.status(KEY)?.cpu?.elu, ELU)
    assert.equal(autoscaler.status(KEY)?.cap?.limit, 2)
  })

  test('CPU use is the CPU time between two pongs over the wall time; bad or unknown reports are ignored', () => {
    const { autoscaler, second, now } = harness()
    assert.equal(autoscaler.status(KEY)?.cpu, null)
    assert.equal(autoscaler.status(KEY)?.cap, null)
    second({ concurrency: 1, rps: 10, busy: 0.5, pongs: { i0: [0.5, 2_000_000] } })
    assert.equal(autoscaler.status(KEY)?.cpu?.cpuCores, null)
    const at = now()
    for (const elu of [Number.NaN, Number.POSITIVE_INFINITY]) autoscaler.observeInstance({ versionKey: KEY, instanceId: 'i0', at: at + 500, elu, cpuUs: 9e9 })
    autoscaler.observeInstance({ versionKey: KEY, instanceId: 'i0', at: at + 500, elu: 0.5, cpuUs: -1 })
    autoscaler.observeInstance({ versionKey: KEY, instanceId: 'i0', at: at - 500, elu: 1, cpuUs: 9e9 })
    autoscaler.observeInstance({ versionKey: 'default/other@1', instanceId: 'x', at, elu: 1, cpuUs: 0 })
    autoscaler.observeMachine({ at, cores: 0, busy: 1 })
    autoscaler.observeMachine({ at, cores: 2, busy: Number.NaN })
    // 4.5 s of CPU over 5 s of wall time; an ELU above 1 counts as 1.
    autoscaler.observeInstance({ versionKey: KEY, instanceId: 'i0', at: at + 5000, elu: 1.5, cpuUs: 6_500_000 })
    second({ concurrency: 1, rps: 10, busy: 0.5 })
    assert.deepEqual(autoscaler.status(KEY)?.cpu, { cores: 2, machineBusy: 0.5, elu: 1, cpuCores: 0.9 })
  })
})
