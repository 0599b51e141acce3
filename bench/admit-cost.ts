// The rules' own work per request, without the HTTP around it: what the
// gateway does for a governed request (the retry budget's count, admit, and
// finish once answered) run in a loop on this thread against the function's
// compiled policy. The clock is simulated at a given request rate, so that the
// windows hold as many requests as they do under that load; a clock read per
// request would run the loop far above any limit and measure refusals.
import { FunctionGovernance, newAdmission, type GovernedRequest } from '../src/gateway/index.js'
import type { FunctionPolicy } from '../src/governance/index.js'
import { BenchFailure, median } from './suite.js'

const BATCH = 1000
const NO_EVENTS = { breaker: () => {}, burst: () => {} }

export interface AdmitCostOptions {
  policy: FunctionPolicy
  /** The requests, used round-robin (their headers and callers are the keys of per-caller limits). */
  requests: GovernedRequest[]
  /** Requests per second of the simulated clock. */
  rate: number
  warmupMs: number
  durationMs: number
}

/** Runs `n` governed requests per call, each counted, admitted and finished, on a clock simulated at `rate`. */
function governedLoop (policy: FunctionPolicy, requests: GovernedRequest[], rate: number): (n: number) => void {
  const step = 1000 / rate
  let clock = 0
  const governance = new FunctionGovernance('bench/admit-cost', policy, NO_EVENTS, clock)
  // One admission for every request, as the gateway hands its spare ones out again.
  const admission = newAdmission()
  let next = 0
  return (n) => {
    let now = clock
    for (let i = 0; i < n; i++) {
      now += step
      governance.retryBudget.recordRequest(now)
      const rejection = governance.admit(requests[next], now, admission)
      if (rejection !== null) throw new BenchFailure(`the rules refused a request in the admit loop (${rejection.rule}, ${rejection.cause}); they should never be reached`)
      governance.finish(admission, 'success', 1, now)
      if (++next === requests.length) next = 0
    }
    clock = now
  }
}

/** µs of this thread per request for count + admit + finish; throws if a rule refuses, as none should. */
export function admitCost (options: AdmitCostOptions): number {
  const run = governedLoop(options.policy, options.requests, options.rate)
  const loop = (ms: number): number => {
    const started = performance.now()
    let count = 0
    while (performance.now() - started < ms) {
      run(BATCH)
      count += BATCH
    }
    return (performance.now() - started) * 1000 / count
  }
  loop(options.warmupMs)
  return loop(options.durationMs)
}

export interface AdmitBytesOptions {
  policy: FunctionPolicy
  requests: GovernedRequest[]
  rate: number
  /** Requests run before measuring, so that the code is optimised and the windows are full. */
  warmup: number
  /** Batches of BATCH requests measured. */
  batches: number
}

/**
 * Bytes of heap this thread allocates per request for count + admit + finish:
 * the heap's growth over each batch, the median of the batches that no
 * collection interrupted (its heap shrank). The clock's value, a double that
 * is boxed when passed on, is included: 16 bytes, as the gateway's
 * performance.now() is for every request, governed or not.
 */
export function admitBytes (options: AdmitBytesOptions): number {
  const run = governedLoop(options.policy, options.requests, options.rate)
  run(options.warmup)
  const perRequest: number[] = []
  for (let b = 0; b < options.batches; b++) {
    const before = process.memoryUsage().heapUsed
    run(BATCH)
    const grown = process.memoryUsage().heapUsed - before
    if (grown >= 0) perRequest.push(grown / BATCH)
  }
  if (perRequest.length === 0) throw new BenchFailure('every batch of the admit loop met a garbage collection: no allocation figure')
  return median(perRequest)
}
