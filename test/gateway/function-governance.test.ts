import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FunctionGovernance, newAdmission, retryAfterHeader, type GovernedRequest, type Rejection } from '../../src/gateway/function-governance.js'
import { GOVERNANCE_DEFAULTS, KeyBudget, retryAfterSeconds, type FunctionPolicy, type GovernanceRule } from '../../src/governance/index.js'

// Which of a function's rules a request meets: a rule's route may name the
// path the function sees or the path the caller sent (its spec.http.path).

const events = { breaker: () => {}, burst: () => {} }

function policy (rules: GovernanceRule[]): FunctionPolicy {
  return { rules, retry: GOVERNANCE_DEFAULTS.retry, lanes: [], auth: { mode: 'none' } }
}

function limitOf (id: string, routes: GovernanceRule['routes'], limit: number): GovernanceRule {
  return {
    id,
    routes,
    strategies: [{ kind: 'rate-limit', name: id, algorithm: 'sliding-window', limit, windowMs: 1000, burst: 0, key: { by: 'function' }, maxKeys: 10 }],
    fallbacks: {}
  }
}

const WIDE: GovernanceRule = { id: 'wide', routes: [], strategies: [], fallbacks: { 'timed-out': { kind: 'response', status: 504, body: 'wide', headers: [] } } }

// GET /foo on a function whose spec.http.path is /foo: the function sees /.
const request: GovernedRequest = { method: 'GET', url: '/foo', functionPath: '/', caller: '', ip: '', rawHeaders: [] }

function admitted (governance: FunctionGovernance, n: number): string[] {
  const causes: string[] = []
  for (let i = 0; i < n; i++) causes.push(governance.admit(request, 0, newAdmission())?.rule ?? 'admitted')
  return causes
}

test('a rule on the caller\'s path applies beside a rule for every route', () => {
  const governance = new FunctionGovernance('default/foo', policy([WIDE, limitOf('by-url', [{ path: '/foo' }], 1)]), events, 0)
  assert.deepEqual(admitted(governance, 2), ['admitted', 'by-url'])
})

test('a rule that matches both paths counts the request once', () => {
  const governance = new FunctionGovernance('default/foo', policy([limitOf('every-route', [], 2)]), events, 0)
  assert.deepEqual(admitted(governance, 3), ['admitted', 'admitted', 'every-route'])
})

test('a fallback is found by either path, the first rule in order naming the cause winning', () => {
  const byUrl: GovernanceRule = { id: 'by-url', routes: [{ path: '/foo' }], strategies: [], fallbacks: { 'timed-out': { kind: 'response', status: 504, body: 'by-url', headers: [] }, overloaded: { kind: 'function', name: 'spare' } } }
  const governance = new FunctionGovernance('default/foo', policy([byUrl, WIDE]), events, 0)
  assert.deepEqual(governance.fallbackFor('timed-out', 'GET', '/', '/foo'), byUrl.fallbacks['timed-out'])
  assert.deepEqual(governance.fallbackFor('overloaded', 'GET', '/', '/foo'), { kind: 'function', name: 'spare' })
  assert.deepEqual(governance.fallbackFor('timed-out', 'GET', '/', '/fn/foo'), WIDE.fallbacks['timed-out'])
  assert.equal(governance.fallbackFor('rate-limited', 'GET', '/', '/foo'), undefined)
})

test('rules that name no route, or only /* on every method, meet every path in order', () => {
  const governance = new FunctionGovernance('default/foo', policy([limitOf('first', [], 3), limitOf('star', [{ path: '/*' }], 1)]), events, 0)
  const other: GovernedRequest = { ...request, method: 'POST', url: '/fn/foo/deep/path?x=1', functionPath: '/deep/path?x=1' }
  assert.equal(governance.admit(other, 0, newAdmission()), null)
  assert.equal(governance.admit(request, 0, newAdmission())?.rule, 'star')
  // The refusal by `star` handed back nothing of `first`'s quota: a sliding window's admission stays counted.
  assert.equal(governance.admit(request, 0, newAdmission())?.rule, 'star')
  assert.equal(governance.admit(request, 0, newAdmission())?.rule, 'first')
})

test('a rule on /* for one method is not everywhere: other methods pass it', () => {
  const governance = new FunctionGovernance('default/foo', policy([limitOf('gets', [{ method: 'GET', path: '/*' }], 1)]), events, 0)
  assert.deepEqual(admitted(governance, 2), ['admitted', 'gets'])
  assert.equal(governance.admit({ ...request, method: 'POST' }, 0, newAdmission()), null)
})

test('one admission reused request after request hands back its slots and records its breaker outcomes each time', () => {
  const rule: GovernanceRule = {
    id: 'guarded',
    routes: [],
    strategies: [
      { kind: 'breaker', name: 'errors', trigger: 'error-count', threshold: 3, slowMs: 0, windowMs: 10_000, buckets: 10, minRequests: 1, recoveryMs: 5000, maxRecoveryMs: 5000, probes: 1, rampPercent: 100, rampIntervalMs: 0 },
      { kind: 'concurrency', name: 'one', limit: 1 }
    ],
    fallbacks: {}
  }
  const governance = new FunctionGovernance('default/foo', policy([rule]), events, 0)
  const admission = newAdmission()
  for (let i = 0; i < 5; i++) {
    assert.equal(governance.admit(request, i, admission), null, `request ${i} is admitted: the last one gave its slot back`)
    assert.equal(governance.admit(request, i, newAdmission())?.cause, 'concurrency-limited', 'while one is in flight, the next waits for its slot')
    governance.finish(admission, 'success', 1, i)
  }
  for (let i = 0; i < 3; i++) {
    assert.equal(governance.admit(request, 10 + i, admission), null)
    governance.finish(admission, 'failure', 1, 10 + i)
  }
  assert.equal(governance.admit(request, 20, admission)?.cause, 'breaker-open', 'three failures recorded through the reused admission trip it')
  assert.equal(governance.state(20).rules[0].concurrency[0].inFlight, 0, 'the refusal took no slot')
})

test('a refusal names its metric key and RateLimit headers; the first of a burst is an event, the rest of it not', () => {
  const bursts: Rejection[] = []
  const governance = new FunctionGovernance('prod/foo', policy([limitOf('limited', [], 1)]), { breaker: () => {}, burst: (_fn, rejection) => bursts.push(rejection) }, 0)
  assert.equal(governance.admit(request, 0, newAdmission()), null)
  const first = governance.admit(request, 100, newAdmission())
  assert.equal(first?.metricKey, 'prod/foo\u0000rate-limited\u0000limited')
  assert.equal(first?.rateLimitPolicy, '"limited";q=1;w=1')
  assert.equal(first?.rateLimit, '"limited";r=0;t=1')
  assert.equal(first?.retryAfterMs, 900)
  const again = governance.admit(request, 999.5, newAdmission())
  assert.equal(again?.rateLimit, '"limited";r=0;t=1')
  assert.deepEqual(bursts, [first], 'one event for the burst')
  assert.equal(governance.admit(request, 11_000, newAdmission()), null, 'the window has passed')
  const later = governance.admit(request, 11_001, newAdmission())
  assert.deepEqual(bursts, [first, later], 'a rejection more than 10 s after the last one starts a new burst')
})

test('Retry-After is whole seconds, at least 1, rounded up, at any size', () => {
  for (const ms of [-5, 0, 1, 999, 1000, 1001, 59_999, 60_000, 60_001, 3_600_000, 1.5e12]) {
    assert.equal(retryAfterHeader(ms), String(retryAfterSeconds(ms)), `${ms} ms`)
  }
  assert.equal(retryAfterHeader(0), '1')
  assert.equal(retryAfterHeader(1001), '2')
  assert.equal(retryAfterHeader(60_001), '61')
})

test('keyed limits count their keys against the budget given, and give them back when their rule or the whole governance goes', () => {
  const budget = new KeyBudget(100)
  const perTenant = (id: string, maxKeys: number): GovernanceRule => ({
    id,
    routes: [],
    strategies: [{ kind: 'rate-limit', name: id, algorithm: 'sliding-window', limit: 5, windowMs: 1000, burst: 0, key: { by: 'header', name: 'x-tenant' }, maxKeys }],
    fallbacks: {}
  })
  const governance = new FunctionGovernance('default/foo', policy([perTenant('a', 50), perTenant('b', 50)]), events, 0, budget)
  const from = (tenant: string): GovernedRequest => ({ ...request, rawHeaders: ['x-tenant', tenant] })
  for (let i = 0; i < 30; i++) assert.equal(governance.admit(from(`t${i}`), 0, newAdmission()), null)
  assert.equal(budget.inUse, 60, 'thirty tenants in each of the two rules')
  // Rule b changes (a new signature): its keys go back; a stays with its own.
  governance.update(policy([perTenant('a', 50), perTenant('b', 40)]), 1)
  assert.equal(budget.inUse, 30)
  governance.release()
  assert.equal(budget.inUse, 0)
  assert.equal(governance.hasRules, false)
})
