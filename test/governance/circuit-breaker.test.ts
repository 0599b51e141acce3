import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BREAKER_REFUSED, CircuitBreaker, type BreakerPolicy, type BreakerTransition, type CallOutcome
} from '../../src/governance/index.js'

const base: BreakerPolicy = {
  kind: 'breaker',
  name: 'fn-breaker',
  trigger: 'error-ratio',
  threshold: 0.5,
  slowMs: 0,
  windowMs: 10_000,
  buckets: 10,
  minRequests: 5,
  recoveryMs: 5000,
  maxRecoveryMs: 60_000,
  probes: 3,
  rampPercent: 100,
  rampIntervalMs: 0
}

function breaker (over: Partial<BreakerPolicy> = {}, random = 0.5): { breaker: CircuitBreaker, transitions: BreakerTransition[] } {
  const transitions: BreakerTransition[] = []
  return { breaker: new CircuitBreaker({ ...base, ...over }, { random: () => random, onTransition: (t) => transitions.push(t) }), transitions }
}

/** One call through the breaker: false if it was refused. */
function call (b: CircuitBreaker, now: number, outcome: CallOutcome, durationMs = 10): boolean {
  const permit = b.tryAcquire(now)
  if (permit === BREAKER_REFUSED) return false
  b.record(permit, now, outcome, durationMs)
  return true
}

function calls (b: CircuitBreaker, now: number, outcome: CallOutcome, n: number, durationMs = 10): void {
  for (let i = 0; i < n; i++) call(b, now, outcome, durationMs)
}

/** Trips the breaker at `now` with minRequests failures. */
function trip (b: CircuitBreaker, now: number): void {
  calls(b, now, 'failure', b.policy.minRequests)
  assert.equal(b.state(now), 'open')
}

describe('CircuitBreaker: closed', () => {
  test('does not trip before minRequests calls, even when every call fails, and trips at exactly minRequests', () => {
    const { breaker: b } = breaker()
    calls(b, 0, 'failure', 4)
    assert.equal(b.state(0), 'closed')
    call(b, 0, 'failure')
    assert.equal(b.state(0), 'open')
  })

  test('a success that brings the window to minRequests trips it when the ratio is already reached', () => {
    const { breaker: b, transitions } = breaker()
    calls(b, 0, 'failure', 3)
    calls(b, 0, 'success', 1)
    assert.equal(b.state(0), 'closed')
    call(b, 0, 'success')
    assert.equal(b.state(0), 'open')
    assert.equal(transitions[0].reason, 'error ratio 0.6 >= 0.5 over 5 calls in 10s')
  })

  test('the threshold is reached at >=: 2 errors in 4 calls trip a 0.5 ratio', () => {
    const { breaker: b } = breaker({ minRequests: 4 })
    calls(b, 0, 'success', 2)
    calls(b, 0, 'failure', 2)
    assert.equal(b.state(0), 'open')
  })

  test('a ratio just below the threshold does not trip', () => {
    const { breaker: b } = breaker({ minRequests: 10 })
    calls(b, 0, 'success', 6)
    calls(b, 0, 'failure', 4)
    calls(b, 0, 'success', 100)
    assert.equal(b.state(0), 'closed')
  })

  test('a ratio threshold of 0 needs one error, not none', () => {
    const { breaker: b } = breaker({ threshold: 0 })
    calls(b, 0, 'success', 50)
    assert.equal(b.state(0), 'closed')
    call(b, 0, 'failure')
    assert.equal(b.state(0), 'open')
  })

  test('ignored outcomes count for nothing: not as calls, not as errors', () => {
    const { breaker: b } = breaker()
    calls(b, 0, 'ignored', 20)
    calls(b, 0, 'failure', 4)
    assert.equal(b.state(0), 'closed')
    assert.deepEqual(b.snapshot(0).window, { calls: 4, errors: 4, slow: 0, windowMs: 10_000 })
  })

  test('the window slides by buckets: calls a full window old no longer count', () => {
    const early = breaker().breaker
    calls(early, 0, 'failure', 4)
    call(early, 9999, 'failure')
    assert.equal(early.state(9999), 'open')
    const late = breaker().breaker
    calls(late, 0, 'failure', 4)
    call(late, 10_000, 'failure')
    assert.equal(late.state(10_000), 'closed')
    assert.equal(late.snapshot(10_000).window.calls, 1)
  })

  test('slow-ratio: a call over slowMs is slow, one of exactly slowMs is not, a slow failure is slow too', () => {
    const { breaker: b, transitions } = breaker({ trigger: 'slow-ratio', threshold: 0.5, slowMs: 500 })
    calls(b, 0, 'success', 2, 500)
    calls(b, 0, 'success', 2, 501)
    assert.equal(b.state(0), 'closed')
    call(b, 0, 'success', 100)
    assert.equal(b.state(0), 'closed')
    assert.deepEqual(b.snapshot(0).window, { calls: 5, errors: 0, slow: 2, windowMs: 10_000 })
    call(b, 0, 'failure', 501)
    assert.equal(b.state(0), 'open')
    assert.equal(transitions[0].reason, 'slow-call ratio 0.5 >= 0.5 (calls over 500ms) over 6 calls in 10s')
  })

  test('slow-ratio: 3 slow calls of 5 trip a 0.6 threshold', () => {
    const { breaker: c, transitions: cts } = breaker({ trigger: 'slow-ratio', threshold: 0.6, slowMs: 500 })
    calls(c, 0, 'success', 3, 600)
    calls(c, 0, 'success', 2, 100)
    assert.equal(c.state(0), 'open')
    assert.equal(cts[0].reason, 'slow-call ratio 0.6 >= 0.6 (calls over 500ms) over 5 calls in 10s')
  })

  test('error-count: trips on the threshold-th error in the window, whatever the successes', () => {
    const { breaker: b, transitions } = breaker({ trigger: 'error-count', threshold: 3, minRequests: 1 })
    calls(b, 0, 'success', 100)
    calls(b, 0, 'failure', 2)
    assert.equal(b.state(0), 'closed')
    call(b, 0, 'failure')
    assert.equal(b.state(0), 'open')
    assert.equal(transitions[0].reason, '3 errors >= 3 over 103 calls in 10s')
  })

  test('an outcome admitted before a trip is not counted after it', () => {
    const { breaker: b } = breaker()
    const early = b.tryAcquire(0)
    trip(b, 0)
    b.record(early, 0, 'failure', 10)
    assert.equal(b.snapshot(0).consecutiveTrips, 1)
  })
})

describe('CircuitBreaker: open and half-open', () => {
  test('open refuses every call until recoveryMs has passed, and says how long is left', () => {
    const { breaker: b } = breaker()
    trip(b, 1000)
    assert.equal(b.tryAcquire(1000), BREAKER_REFUSED)
    assert.equal(b.tryAcquire(5999), BREAKER_REFUSED)
    assert.equal(b.retryInMs(3000), 3000)
    assert.equal(b.snapshot(3000).halfOpenAt, 6000)
    assert.equal(b.state(6000), 'half-open')
    assert.equal(b.retryInMs(6000), 0)
  })

  test('half-open admits exactly `probes` calls, never more than that many at once', () => {
    const { breaker: b } = breaker()
    trip(b, 0)
    const permits = [b.tryAcquire(5000), b.tryAcquire(5000), b.tryAcquire(5000)]
    assert.ok(permits.every((p) => p !== BREAKER_REFUSED))
    assert.equal(b.tryAcquire(5000), BREAKER_REFUSED)
    b.record(permits[0], 5001, 'success', 10)
    assert.equal(b.tryAcquire(5001), BREAKER_REFUSED)
    assert.deepEqual(b.snapshot(5001).probes, { inFlight: 2, succeeded: 1, of: 3 })
    b.record(permits[1], 5002, 'success', 10)
    assert.equal(b.state(5002), 'half-open')
    b.record(permits[2], 5003, 'success', 10)
    assert.equal(b.state(5003), 'closed')
  })

  test('an ignored probe gives its place back to another probe', () => {
    const { breaker: b } = breaker({ probes: 1 })
    trip(b, 0)
    const first = b.tryAcquire(5000)
    assert.equal(b.tryAcquire(5000), BREAKER_REFUSED)
    b.record(first, 5000, 'ignored', 10)
    assert.equal(b.state(5000), 'half-open')
    const second = b.tryAcquire(5000)
    assert.notEqual(second, BREAKER_REFUSED)
    b.record(second, 5000, 'success', 10)
    assert.equal(b.state(5000), 'closed')
  })

  test('a call admitted while closed that ends during half-open is not a probe', () => {
    const { breaker: b } = breaker({ probes: 1 })
    const early = b.tryAcquire(0)
    trip(b, 0)
    assert.equal(b.state(5000), 'half-open')
    b.record(early, 5000, 'success', 10)
    assert.equal(b.state(5000), 'half-open')
    b.record(early, 5000, 'failure', 10)
    assert.equal(b.state(5000), 'half-open')
  })

  test('a failed probe opens it again, for twice as long less the jitter, growing per trip up to maxRecoveryMs', () => {
    const { breaker: b, transitions } = breaker({ probes: 1 }, 0.5)
    trip(b, 0)
    let now = 0
    for (let i = 0; i < 6; i++) {
      now += b.retryInMs(now)
      assert.equal(call(b, now, 'failure'), true)
    }
    const opens = transitions.filter((t) => t.to === 'open').map((t) => t.openMs)
    // 5 s, then 10, 20, 40, 60 (the cap), 60 s, each from the second less 0.2 × 0.5 of it.
    assert.deepEqual(opens, [5000, 9000, 18_000, 36_000, 54_000, 54_000, 54_000])
    assert.equal(b.snapshot(now).consecutiveTrips, 7)
  })

  test('a slow probe reopens a slow-ratio breaker; an error-ratio breaker takes a slow success as a success', () => {
    const slow = breaker({ trigger: 'slow-ratio', threshold: 0.5, slowMs: 100, probes: 1 })
    calls(slow.breaker, 0, 'success', 5, 200)
    assert.equal(call(slow.breaker, 5000, 'success', 150), true)
    assert.equal(slow.breaker.state(5000), 'open')
    assert.equal(slow.transitions.at(-1)?.reason, 'probe was slow (150ms > 100ms) after 0 of 1 succeeded')
    const errors = breaker({ slowMs: 100, probes: 1 })
    trip(errors.breaker, 0)
    call(errors.breaker, 5000, 'success', 150)
    assert.equal(errors.breaker.state(5000), 'closed')
  })

  test('closing without a ramp resets the backoff: the next trip opens for recoveryMs again', () => {
    const { breaker: b, transitions } = breaker({ probes: 1 })
    trip(b, 0)
    call(b, 5000, 'failure')
    call(b, 14_000, 'success')
    assert.equal(b.state(14_000), 'closed')
    trip(b, 20_000)
    assert.deepEqual(transitions.filter((t) => t.to === 'open').map((t) => t.openMs), [5000, 9000, 5000])
  })

  test('every state change is reported with its reason', () => {
    const { breaker: b, transitions } = breaker({ probes: 2 })
    trip(b, 0)
    calls(b, 5000, 'success', 2)
    assert.deepEqual(transitions.map(({ from, to, at, reason }) => ({ from, to, at, reason })), [
      { from: 'closed', to: 'open', at: 0, reason: 'error ratio 1 >= 0.5 over 5 calls in 10s' },
      { from: 'open', to: 'half-open', at: 5000, reason: 'open for 5s; admitting 2 probes' },
      { from: 'half-open', to: 'closed', at: 5000, reason: '2 of 2 probes succeeded' }
    ])
    assert.equal(transitions[0].openMs, 5000)
  })

  test('the snapshot tells describe the state, why, since when, the window and the open time', () => {
    const { breaker: b } = breaker()
    calls(b, 100, 'success', 2)
    calls(b, 200, 'failure', 3)
    assert.deepEqual(b.snapshot(300), {
      name: 'fn-breaker',
      state: 'open',
      reason: 'error ratio 0.6 >= 0.5 over 5 calls in 10s',
      since: 200,
      window: { calls: 5, errors: 3, slow: 0, windowMs: 10_000 },
      consecutiveTrips: 1,
      openMs: 5000,
      halfOpenAt: 5200,
      probes: { inFlight: 0, succeeded: 0, of: 3 },
      rampPercent: null
    })
  })
})

describe('CircuitBreaker: ramp after closing', () => {
  const ramped = { probes: 1, rampPercent: 25, rampIntervalMs: 1000 }

  function admittedOf (b: CircuitBreaker, now: number, n: number): number {
    let admitted = 0
    for (let i = 0; i < n; i++) if (call(b, now, 'success')) admitted++
    return admitted
  }

  test('admits 25%, 50%, 75% then all of the traffic, one step per interval, exactly', () => {
    const { breaker: b, transitions } = breaker(ramped)
    trip(b, 0)
    call(b, 5000, 'success')
    assert.equal(transitions.at(-1)?.reason, '1 of 1 probes succeeded; ramping up from 25% by 25% every 1s')
    assert.equal(b.snapshot(5000).rampPercent, 25)
    assert.equal(admittedOf(b, 5000, 8), 2)
    assert.equal(admittedOf(b, 5999, 4), 1)
    assert.equal(b.snapshot(6000).rampPercent, 50)
    assert.equal(admittedOf(b, 6000, 8), 4)
    assert.equal(admittedOf(b, 7000, 8), 6)
    assert.equal(admittedOf(b, 8000, 8), 8)
    assert.equal(b.snapshot(8000).rampPercent, null)
  })

  test('the first request after closing passes', () => {
    const { breaker: b } = breaker({ ...ramped, rampPercent: 10 })
    trip(b, 0)
    call(b, 5000, 'success')
    assert.equal(call(b, 5000, 'success'), true)
    assert.equal(call(b, 5000, 'success'), false)
  })

  test('a trip during the ramp counts as a consecutive trip: it opens for longer', () => {
    const { breaker: b, transitions } = breaker({ ...ramped, minRequests: 2, rampPercent: 50 })
    trip(b, 0)
    call(b, 5000, 'success')
    calls(b, 5100, 'failure', 4)
    assert.equal(b.state(5100), 'open')
    assert.deepEqual(transitions.filter((t) => t.to === 'open').map((t) => t.openMs), [5000, 9000])
  })

  test('the backoff resets once the ramp is done', () => {
    const { breaker: b, transitions } = breaker(ramped)
    trip(b, 0)
    call(b, 5000, 'success')
    assert.equal(b.snapshot(7999).consecutiveTrips, 1)
    assert.equal(b.snapshot(8000).consecutiveTrips, 0)
    trip(b, 8000)
    assert.deepEqual(transitions.filter((t) => t.to === 'open').map((t) => t.openMs), [5000, 5000])
  })
})
