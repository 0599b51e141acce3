// The rules' own work per request, without the HTTP around it: what the
// gateway does for a governed request (the retry budget's count, admit, and
// finish once answered) run in a loop on this thread against the function's
// compiled policy. The clock is simulated at a given request rate, so that the
// windows hold as many requests as they do under that load; a clock read per
// request would run the loop far above any limit and measure refusals.
import { FunctionGovernance, newAdmission, type GovernedRequest } from '../src/gateway/index.js'
import type { FunctionPolicy } from '../src/governance/index.js'
import { BenchFailure } from './suite.js'

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

/** µs of this thread per request for count + admit + finish; throws if a rule refuses, as none should. */
export function admitCost (options: AdmitCostOptions): number {
  const step = 1000 / options.rate
  let now = 0
  const governance = new FunctionGovernance('bench/admit-cost', options.policy, NO_EVENTS, now)
  const requests = options.requests
  let next = 0
  // One admission for every request, as the gateway hands its spare ones out again.
  const admission = newAdmission()
  const loop = (ms: number): number => {
    const started = performance.now()
    let count = 0
    while (performance.now() - started < ms) {
      for (let i = 0; i < BATCH; i++) {
        now += step
        governance.retryBudget.recordRequest(now)
        const rejection = governance.admit(requests[next], now, admission)
        if (rejection !== null) throw new BenchFailure(`the rules refused a request in the admit loop (${rejection.rule}, ${rejection.cause}); they should never be reached`)
        governance.finish(admission, 'success', 1, now)
        if (++next === requests.length) next = 0
      }
      count += BATCH
    }
    return (performance.now() - started) * 1000 / count
  }
  loop(options.warmupMs)
  return loop(options.durationMs)
}
