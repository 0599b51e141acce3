import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Autoscaler, type ScaledVersion, type ScalingDecision } from '../../src/autoscaler/index.js'

const KEY = 'default/hello@1'

function version (over: Partial<ScaledVersion['policy']> = {}, extra: Partial<ScaledVersion> = {}): ScaledVersion {
  return {
    key: KEY,
    fn: { namespace: 'default', name: 'hello', version: 1 },
    policy: { min: 0, max: 10, metrics: [{ metric: 'concurrency', target: 10 }], utilization: 0.7, windowMs: 10_000, scaleDownDelayMs: 3_000, instanceConcurrency: 100, ...over },
    schedule: [],
    pin: 0,
    ...extra
  }
}

// A clock the test moves, and the counts the autoscaler wrote.
function harness (versions: ScaledVersion[]) {
  let now = 1_000_000
  const scaled: Array<[string, number]> = []
  const decisions: ScalingDecision[] = []
  const autoscaler = new Autoscaler({ scale: (key, n) => scaled.push([key, n]) }, { onDecision: (d) => decisions.push(d) }, { now: () => now })
  autoscaler.setVersions(versions)
  // One gateway report and one step per simulated second.
  const second = (concurrency: number, arrivals = concurrency > 0 ? 1 : 0): void => {
    now += 1000
    autoscaler.observe({ at: now, versions: [{ key: KEY, concurrency, rps: arrivals, arrivals, inFlight: 0, waiting: 0 }] })
    autoscaler.tick()
  }
  return { autoscaler, scaled, decisions, second, advance: (ms: number) => { now += ms } }
}

describe('Autoscaler', () => {
  test('a new version starts at its floor: min, a schedule or a rollout pin', () => {
    const { autoscaler } = harness([version({ min: 2 })])
    assert.equal(autoscaler.desired(KEY), 2)
    autoscaler.setVersions([version({ min: 0 }, { pin: 1 })])
    assert.equal(autoscaler.desired(KEY), 2, 'a lower floor does not drop instances at once')
    const fresh = harness([version({ min: 0 }, { pin: 1 })])
    assert.equal(fresh.autoscaler.desired(KEY), 1)
  })

  test('a request at zero scales to one at once, without waiting for a step', () => {
    const { autoscaler, scaled, decisions } = harness([version()])
    assert.equal(autoscaler.desired(KEY), 0)
    autoscaler.activate(KEY)
    assert.deepEqual(scaled, [[KEY, 1]])
    assert.equal(decisions[0].reason, 'activation')
    autoscaler.activate(KEY)
    assert.equal(scaled.length, 1, 'a second waiting request does not ask again')
  })

  test('step load grows the count, then lower load shrinks it back after the delay, halving', () => {
    const { autoscaler, second } = harness([version({ min: 1 })])
    for (let i = 0; i < 3; i++) second(5)
    assert.equal(autoscaler.desired(KEY), 1)
    second(60)
    // The panic window (1 s of a 10 s window) sees 60 ≥ 2 × 1 instance: panic, 9 instances.
    assert.equal(autoscaler.desired(KEY), 9)
    assert.equal(autoscaler.status(KEY)?.panic, true)
    for (let i = 0; i < 30; i++) second(5)
    const counts: number[] = []
    for (let i = 0; i < 20; i++) {
      second(5)
      counts.push(autoscaler.desired(KEY))
    }
    assert.equal(counts.at(-1), 1)
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= Math.ceil(counts[i - 1] / 2), `halves at most per step: ${counts.join(',')}`)
  })

  test('queue metric: the backlog (waiting + leased) scales to ⌈backlog / target⌉ within max, then back to min once it drains', () => {
    const { autoscaler, decisions, advance } = harness([version({ min: 1, max: 10, metrics: [{ metric: 'queue', target: 10 }], windowMs: 6_000, scaleDownDelayMs: 2_000 })])
    let now = 1_000_000
    const second = (backlog: number, lastCompletedAt?: number): void => {
      advance(1000)
      now += 1000
      autoscaler.observeQueues({ at: now, versions: [{ key: KEY, backlog, lastCompletedAt }] })
      autoscaler.tick()
    }
    assert.equal(autoscaler.desired(KEY), 1)
    second(35)
    assert.equal(autoscaler.desired(KEY), 4, 'panic on the first sample: ⌈35 / 10⌉')
    second(500)
    assert.equal(autoscaler.desired(KEY), 10, 'capped at max')
    assert.match(decisions.at(-1)?.message ?? '', /queue \d+(\.\d)? over 6s, 500 over 1s \/ 10;/)
    for (let i = 0; i < 20; i++) second(0, now)
    assert.equal(autoscaler.desired(KEY), 1, 'back to min once the queue is empty')
  })

  test('queue metric at min 0: zero only when the backlog is empty and the last completion is scaleDownDelay old', () => {
    const { autoscaler, advance } = harness([version({ min: 0, metrics: [{ metric: 'queue', target: 10 }], windowMs: 6_000, scaleDownDelayMs: 3_000 })])
    let now = 1_000_000
    const second = (backlog: number, lastCompletedAt?: number): void => {
      advance(1000)
      now += 1000
      autoscaler.observeQueues({ at: now, versions: [{ key: KEY, backlog, lastCompletedAt }] })
      autoscaler.tick()
    }
    autoscaler.activate(KEY)
    second(3)
    assert.equal(autoscaler.desired(KEY), 1)
    // Leased messages still count: a worker busy for a while is not stopped.
    for (let i = 0; i < 5; i++) second(3)
    assert.equal(autoscaler.desired(KEY), 1)
    const finished = now + 500
    second(0, finished)
    second(0, finished)
    second(0, finished)
    assert.equal(autoscaler.desired(KEY), 1, '2.5 s after the last completion')
    second(0, finished)
    assert.equal(autoscaler.desired(KEY), 0, '3.5 s after the last completion')
  })

  test('goes to zero after scaleDownDelay without requests, long before the window empties', () => {
    const { autoscaler, second, decisions } = harness([version({ windowMs: 60_000, scaleDownDelayMs: 3_000 })])
    autoscaler.activate(KEY)
    for (let i = 0; i < 5; i++) second(20)
    assert.ok(autoscaler.desired(KEY) >= 3)
    second(0)
    second(0)
    assert.notEqual(autoscaler.desired(KEY), 0)
    second(0)
    second(0)
    assert.equal(autoscaler.desired(KEY), 0)
    assert.equal(decisions.at(-1)?.reason, 'idle')
  })

  test('every decision carries its inputs and a line that explains it', () => {
    const { second, decisions } = harness([version({ min: 1 })])
    second(40)
    const d = decisions.at(-1)
    assert.ok(d !== undefined)
    assert.equal(d.from, 1)
    assert.equal(d.to, 6)
    assert.equal(d.observed.stable.concurrency, 40)
    assert.match(d.message, /^v1: 1 → 6 instances \(panic.*concurrency 40 over 10s, 40 over 1s \/ \(10 × 0\.7\).*panic mode on\)$/)
  })

  test('raising min in the spec scales up at once; lowering max scales down at once', () => {
    const { autoscaler } = harness([version({ min: 1 })])
    autoscaler.setVersions([version({ min: 4 })])
    assert.equal(autoscaler.desired(KEY), 4)
    autoscaler.setVersions([version({ min: 1, max: 2 })])
    assert.equal(autoscaler.desired(KEY), 2)
  })

  test('a scheduled floor holds instances while it is in force', () => {
    const schedule = [{ cron: '* * * * *', min: 3, until: '23:59', timezone: 'UTC' }]
    const { autoscaler, second } = harness([version({}, { schedule })])
    second(0)
    assert.equal(autoscaler.desired(KEY), 3)
  })

  test('versions no longer listed are forgotten', () => {
    const { autoscaler } = harness([version({ min: 2 })])
    autoscaler.setVersions([])
    assert.equal(autoscaler.desired(KEY), 0)
    assert.equal(autoscaler.status(KEY), undefined)
  })
})
