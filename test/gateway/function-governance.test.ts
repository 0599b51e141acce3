import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FunctionGovernance, newAdmission, type GovernedRequest } from '../../src/gateway/function-governance.js'
import { GOVERNANCE_DEFAULTS, type FunctionPolicy, type GovernanceRule } from '../../src/governance/index.js'

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
