// The compiler: rules matched to functions by namespace and app label, targets
// to routes, strategies and fallbacks resolved by name, every default from
// GOVERNANCE_DEFAULTS, and every reference that resolves to nothing reported.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import {
  compileGovernance, compilePolicies, GOVERNANCE_DEFAULTS,
  type FunctionPolicy, type GovernedFunction, type RuleResource
} from '../../src/governance/index.js'

const fn = (name: string, labels: Record<string, string> = {}, namespace = 'prod', governance?: GovernedFunction['governance']): GovernedFunction =>
  ({ namespace, name, labels, ...(governance === undefined ? {} : { governance }) })

// The three documents as the store holds them once applied into prod.
const example: RuleResource[] = [
  { kind: 'RateLimitStrategy', namespace: 'prod', name: 'rate-limit-foo', labels: {}, spec: { metricType: 'RequestAmount', limitMode: 'Global', threshold: 10, statDuration: '1s' } },
  {
    kind: 'HttpRequestFallbackAction',
    namespace: 'prod',
    name: 'fallback-foo',
    labels: {},
    spec: { behavior: 'ReturnProvidedResponse', behaviorDesc: { responseStatusCode: 429, responseContentBody: 'Blocked by Sentinel', responseAdditionalHeaders: [{ key: 'X-Sentinel-Limit', value: 'foo' }] } }
  },
  {
    kind: 'FaultToleranceRule',
    namespace: 'prod',
    name: 'my-rule',
    labels: { app: 'my-app' },
    spec: { selector: { app: 'foo-app' }, targets: [{ targetResourceName: '/foo' }], strategies: [{ name: 'rate-limit-foo' }], fallbackAction: 'fallback-foo' }
  }
]

const DEFAULT_RETRY = { attempts: 3, baseMs: 25, capMs: 1000, budgetRatio: 0.2, budgetMinPerSecond: 3 }
/** A function that declares no `retries` retries nothing an instance began. */
const NO_RETRY = { ...DEFAULT_RETRY, attempts: 1 }

function policyOf (functions: GovernedFunction[], rules: RuleResource[], key: string): FunctionPolicy {
  const compiled = compilePolicies(functions, rules).get(key)
  assert.ok(compiled !== undefined, `no policy for ${key}`)
  return compiled.policy
}

describe('the issue example', () => {
  test('compiles to a sliding-window limit of 10 per 1s on /foo with the fallback 429 "Blocked by Sentinel" and X-Sentinel-Limit: foo', () => {
    const compiled = compilePolicies([fn('foo', { app: 'foo-app' })], example)
    const entry = compiled.get('prod/foo')
    assert.ok(entry !== undefined)
    const fallback = { kind: 'response', status: 429, body: 'Blocked by Sentinel', headers: [['X-Sentinel-Limit', 'foo']] }
    assert.deepEqual(entry.policy, {
      rules: [{
        id: 'FaultToleranceRule/my-rule',
        routes: [{ path: '/foo' }],
        strategies: [{ kind: 'rate-limit', name: 'rate-limit-foo', algorithm: 'sliding-window', limit: 10, windowMs: 1000, burst: 0, key: { by: 'function' }, maxKeys: 10_000 }],
        fallbacks: { 'rate-limited': fallback }
      }],
      retry: NO_RETRY,
      lanes: [],
      auth: { mode: 'none' }
    })
    assert.deepEqual(entry.problems, [])
    assert.deepEqual(entry.sources, [
      { kind: 'FaultToleranceRule', name: 'my-rule' },
      { kind: 'RateLimitStrategy', name: 'rate-limit-foo' },
      { kind: 'HttpRequestFallbackAction', name: 'fallback-foo' }
    ])
  })

  test('spec.selector.app wins over metadata.labels.app: the function labelled my-app gets nothing', () => {
    const policy = policyOf([fn('other', { app: 'my-app' })], example, 'prod/other')
    assert.deepEqual(policy.rules, [])
  })

  test('the rule applies only in its namespace: foo-app in default gets nothing', () => {
    const policy = policyOf([fn('foo', { app: 'foo-app' }, 'default')], example, 'default/foo')
    assert.deepEqual(policy.rules, [])
  })

  test('each rule reports the functions it applies to, strategies and fallbacks through their rule', () => {
    const { rules } = compileGovernance([fn('foo', { app: 'foo-app' }), fn('bar', { app: 'foo-app' }), fn('baz', { app: 'x' })], example)
    assert.deepEqual(rules.get('FaultToleranceRule/prod/my-rule'), { problems: [], functions: ['bar', 'foo'] })
    assert.deepEqual(rules.get('RateLimitStrategy/prod/rate-limit-foo'), { problems: [], functions: ['bar', 'foo'] })
    assert.deepEqual(rules.get('HttpRequestFallbackAction/prod/fallback-foo'), { problems: [], functions: ['bar', 'foo'] })
  })
})

describe('references that resolve to nothing are reported, not ignored', () => {
  test('a missing strategy and a missing fallback: the rule applies without them and says so, on itself and on the function', () => {
    const rules = example.filter((r) => r.kind === 'FaultToleranceRule')
    const { functions, rules: statuses } = compileGovernance([fn('foo', { app: 'foo-app' })], rules)
    const expected = [
      { rule: 'FaultToleranceRule/my-rule', message: 'spec.strategies[0]: no strategy named rate-limit-foo exists in namespace prod (looked for RateLimitStrategy, ThrottlingStrategy, ConcurrencyLimitStrategy, CircuitBreakerStrategy)' },
      { rule: 'FaultToleranceRule/my-rule', message: 'spec.fallbackAction: HttpRequestFallbackAction fallback-foo does not exist in namespace prod; until it does, refused requests get the gateway\'s own answer' }
    ]
    assert.deepEqual(statuses.get('FaultToleranceRule/prod/my-rule')?.problems, expected)
    const compiled = functions.get('prod/foo')
    assert.deepEqual(compiled?.problems, expected)
    assert.deepEqual(compiled?.policy.rules, [{ id: 'FaultToleranceRule/my-rule', routes: [{ path: '/foo' }], strategies: [], fallbacks: {} }])
  })

  test('strategies of another namespace are not found', () => {
    const split = example.map((r) => r.kind === 'FaultToleranceRule' ? r : { ...r, namespace: 'default' })
    const compiled = compilePolicies([fn('foo', { app: 'foo-app' })], split).get('prod/foo')
    assert.equal(compiled?.problems.length, 2)
    assert.deepEqual(compiled?.policy.rules[0]?.strategies, [])
  })

  test('a kind that does not match names the kind that does', () => {
    const rules: RuleResource[] = [
      { kind: 'ConcurrencyLimitStrategy', namespace: 'prod', name: 'limit', labels: {}, spec: { maxConcurrency: 8 } },
      { kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: { app: 'a' }, spec: { targets: [{ targetResourceName: '/' }], strategies: [{ name: 'limit', kind: 'RateLimitStrategy' }] } }
    ]
    const { rules: statuses } = compileGovernance([], rules)
    assert.deepEqual(statuses.get('FaultToleranceRule/prod/r')?.problems, [
      { rule: 'FaultToleranceRule/r', message: 'spec.strategies[0]: RateLimitStrategy limit does not exist in namespace prod (there is a ConcurrencyLimitStrategy of that name: fix the kind)' }
    ])
  })

  test('a name two strategy kinds share needs a kind; with it, the right one is taken', () => {
    const both: RuleResource[] = [
      { kind: 'ConcurrencyLimitStrategy', namespace: 'prod', name: 'foo', labels: {}, spec: { maxConcurrency: 8 } },
      { kind: 'RateLimitStrategy', namespace: 'prod', name: 'foo', labels: {}, spec: { threshold: 5, statDurationSeconds: 1 } }
    ]
    const rule = (kind?: string): RuleResource => ({
      kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: { app: 'a' },
      spec: { targets: [{ targetResourceName: '/' }], strategies: [kind === undefined ? { name: 'foo' } : { name: 'foo', kind }] }
    })
    const ambiguous = compilePolicies([fn('f', { app: 'a' })], [...both, rule()]).get('prod/f')
    assert.deepEqual(ambiguous?.problems.map((p) => p.message), ['spec.strategies[0]: foo names a ConcurrencyLimitStrategy and a RateLimitStrategy in namespace prod: add kind to say which'])
    const chosen = compilePolicies([fn('f', { app: 'a' })], [...both, rule('ConcurrencyLimitStrategy')]).get('prod/f')
    assert.deepEqual(chosen?.problems, [])
    assert.deepEqual(chosen?.policy.rules[0]?.strategies, [{ kind: 'concurrency', name: 'foo', limit: 8 }])
  })
})

describe('targets, selectors and causes', () => {
  const strategies: RuleResource[] = [
    { kind: 'RateLimitStrategy', namespace: 'prod', name: 'rate', labels: {}, spec: { threshold: 3, statDurationSeconds: 5 } },
    { kind: 'ConcurrencyLimitStrategy', namespace: 'prod', name: 'conc', labels: {}, spec: { maxConcurrency: 8, limitMode: 'Local' } },
    { kind: 'CircuitBreakerStrategy', namespace: 'prod', name: 'cb', labels: {}, spec: { strategy: 'ErrorRequestRatio', triggerRatio: 0.5, statDuration: '30s', recoveryTimeout: '5s' } },
    { kind: 'HttpRequestFallbackAction', namespace: 'prod', name: 'busy', labels: {}, spec: { behavior: 'ReturnProvidedResponse', behaviorDesc: { responseContentBody: 'busy' } } }
  ]

  test('two targets are two rules, one limiter each, as Sentinel counts resources apart; METHOD:path keeps its method', () => {
    const rules: RuleResource[] = [...strategies, {
      kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: { app: 'foo-app' },
      spec: { targets: [{ targetResourceName: 'GET:/fooa' }, { targetResourceName: 'post:/api/*' }], strategies: [{ name: 'rate', kind: 'RateLimitStrategy' }] }
    }]
    const policy = policyOf([fn('f', { app: 'foo-app' })], rules, 'prod/f')
    assert.deepEqual(policy.rules.map((r) => [r.id, r.routes]), [
      ['FaultToleranceRule/r#GET:/fooa', [{ method: 'GET', path: '/fooa' }]],
      ['FaultToleranceRule/r#POST:/api/*', [{ method: 'POST', path: '/api/*' }]]
    ])
    assert.deepEqual(policy.rules[0]?.strategies, [{ kind: 'rate-limit', name: 'rate', algorithm: 'sliding-window', limit: 3, windowMs: 5000, burst: 0, key: { by: 'function' }, maxKeys: 10_000 }])
  })

  test('the fallback answers the causes of the rule\'s strategies, with status 429 when it names none', () => {
    const rules: RuleResource[] = [...strategies, {
      kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: {},
      spec: { selector: { app: 'foo-app' }, targets: [{ targetResourceName: '/' }], strategies: [{ name: 'conc' }, { name: 'cb' }], fallbackAction: { name: 'busy', kind: 'HttpRequestFallbackAction' } }
    }]
    const busy = { kind: 'response', status: 429, body: 'busy', headers: [] }
    assert.deepEqual(policyOf([fn('f', { app: 'foo-app' })], rules, 'prod/f').rules[0]?.fallbacks, { 'concurrency-limited': busy, 'breaker-open': busy })
  })

  test('the proto\'s action names the fallback too', () => {
    const rules: RuleResource[] = [...strategies, {
      kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: { app: 'foo-app' },
      spec: { targets: [{ targetResourceName: '/' }], strategies: [{ name: 'rate' }], action: { name: 'busy', kind: 'HttpRequestFallbackAction' } }
    }]
    assert.deepEqual(Object.keys(policyOf([fn('f', { app: 'foo-app' })], rules, 'prod/f').rules[0]?.fallbacks ?? {}), ['rate-limited'])
  })

  test('a selector of several labels needs them all', () => {
    const rules: RuleResource[] = [...strategies, {
      kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: {},
      spec: { selector: { app: 'foo-app', tier: 'web' }, targets: [{ targetResourceName: '/' }], strategies: [{ name: 'rate' }] }
    }]
    const compiled = compilePolicies([fn('web', { app: 'foo-app', tier: 'web' }), fn('db', { app: 'foo-app', tier: 'db' })], rules)
    assert.equal(compiled.get('prod/web')?.policy.rules.length, 1)
    assert.equal(compiled.get('prod/db')?.policy.rules.length, 0)
  })

  test('a breaker of the spec\'s example: slow calls over 500 ms, 60%, 30 s window of 10 buckets, min 5, open 5 s growing to 60 s', () => {
    const rules: RuleResource[] = [
      { kind: 'CircuitBreakerStrategy', namespace: 'prod', name: 'circuit-breaker-slow-foo', labels: {}, spec: { strategy: 'SlowRequestRatio', triggerRatio: '60%', statDuration: '30s', recoveryTimeout: '5s', minRequestAmount: 5, slowConditions: { maxAllowedRt: '500ms' } } },
      { kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: { app: 'a' }, spec: { targets: [{ targetResourceName: '/' }], strategies: [{ name: 'circuit-breaker-slow-foo' }] } }
    ]
    assert.deepEqual(policyOf([fn('f', { app: 'a' })], rules, 'prod/f').rules[0]?.strategies, [{
      kind: 'breaker', name: 'circuit-breaker-slow-foo', trigger: 'slow-ratio', threshold: 0.6, slowMs: 500, windowMs: 30_000, buckets: 10,
      minRequests: 5, recoveryMs: 5000, maxRecoveryMs: 60_000, probes: 3, rampPercent: 10, rampIntervalMs: 1000
    }])
  })

  test('a throttling strategy paces 20 ms apart with a 60 ms queue', () => {
    const rules: RuleResource[] = [
      { kind: 'ThrottlingStrategy', namespace: 'prod', name: 'throttling-foo', labels: {}, spec: { minIntervalOfRequests: '20ms', queueTimeout: '60ms' } },
      { kind: 'FaultToleranceRule', namespace: 'prod', name: 'r', labels: { app: 'a' }, spec: { targets: [{ targetResourceName: '/' }], strategies: [{ name: 'throttling-foo', kind: 'ThrottlingStrategy' }] } }
    ]
    assert.deepEqual(policyOf([fn('f', { app: 'a' })], rules, 'prod/f').rules[0]?.strategies, [
      { kind: 'throttle', name: 'throttling-foo', intervalMs: 20, maxQueueingMs: 60, key: { by: 'function' }, maxKeys: 10_000 }
    ])
  })
})

describe('lanes', () => {
  test('a TrafficLabelRule labels matching requests into its lane; several matches are several lane entries', () => {
    const rules: RuleResource[] = [{
      kind: 'TrafficLabelRule', namespace: 'prod', name: 'gray-users', labels: {},
      spec: {
        selector: { app: 'a' },
        lane: { name: 'Gray' },
        match: [
          { headers: { 'X-User-Id': { exact: 12345 } }, uri: { prefix: '/' } },
          { cookies: { beta: { exact: '1' } }, queryParams: { name: { regex: '^x[a-z]+$' } } }
        ]
      }
    }]
    assert.deepEqual(policyOf([fn('f', { app: 'a' })], rules, 'prod/f').lanes, [
      { lane: 'Gray', id: 'TrafficLabelRule/gray-users[0]', headers: [{ name: 'x-user-id', match: { exact: '12345' } }], cookies: [], query: [], path: { prefix: '/' } },
      { lane: 'Gray', id: 'TrafficLabelRule/gray-users[1]', headers: [], cookies: [{ name: 'beta', match: { exact: '1' } }], query: [{ name: 'name', match: { regex: '^x[a-z]+$' } }] }
    ])
  })

  test('the function\'s own lanes come first', () => {
    const rules: RuleResource[] = [{ kind: 'TrafficLabelRule', namespace: 'prod', name: 't', labels: { app: 'a' }, spec: { lane: 'b', match: { headers: { x: { exact: 'b' } } } } }]
    const policy = policyOf([fn('f', { app: 'a' }, 'prod', { lanes: [{ lane: 'a', headers: { X: { prefix: 'a' } } }] })], rules, 'prod/f')
    assert.deepEqual(policy.lanes.map((l) => [l.id, l.lane]), [['spec.governance.lanes[0]', 'a'], ['TrafficLabelRule/t', 'b']])
  })
})

describe('spec.governance', () => {
  test('a function without rules gets the default retry policy and nothing else', () => {
    assert.deepEqual(policyOf([fn('f')], [], 'prod/f'), { rules: [], retry: NO_RETRY, lanes: [], auth: { mode: 'none' } })
    assert.deepEqual(GOVERNANCE_DEFAULTS.retry, DEFAULT_RETRY)
  })

  test('inline rules with every default filled, before the OpenSergo rules that select the function', () => {
    const governance = {
      rules: [
        { name: 'api', routes: ['/api/*', 'GET:/health'], rateLimit: { limit: 100 } },
        { rateLimit: { algorithm: 'token-bucket' as const, limit: 5, window: '1s', burst: 10, key: 'header:X-Tenant', maxKeys: 500 }, concurrency: { limit: 4 } },
        { throttle: { interval: '20ms', key: 'ip' }, breaker: { threshold: '50%' } }
      ]
    }
    const policy = policyOf([fn('f', { app: 'foo-app' }, 'prod', governance)], example, 'prod/f')
    assert.deepEqual(policy.rules.map((r) => r.id), ['spec.governance.rules[0]', 'spec.governance.rules[1]', 'spec.governance.rules[2]', 'FaultToleranceRule/my-rule'])
    assert.deepEqual(policy.rules[0], {
      id: 'spec.governance.rules[0]',
      routes: [{ path: '/api/*' }, { method: 'GET', path: '/health' }],
      strategies: [{ kind: 'rate-limit', name: 'api', algorithm: 'sliding-window', limit: 100, windowMs: 1000, burst: 0, key: { by: 'function' }, maxKeys: 10_000 }],
      fallbacks: {}
    })
    assert.deepEqual(policy.rules[1]?.strategies, [
      { kind: 'rate-limit', name: 'rule-1', algorithm: 'token-bucket', limit: 5, windowMs: 1000, burst: 10, key: { by: 'header', name: 'x-tenant' }, maxKeys: 500 },
      { kind: 'concurrency', name: 'rule-1', limit: 4 }
    ])
    assert.deepEqual(policy.rules[2]?.strategies, [
      { kind: 'throttle', name: 'rule-2', intervalMs: 20, maxQueueingMs: 500, key: { by: 'ip' }, maxKeys: 10_000 },
      { kind: 'breaker', name: 'rule-2', trigger: 'error-ratio', threshold: 0.5, slowMs: 0, windowMs: 10_000, buckets: 10, minRequests: 5, recoveryMs: 5000, maxRecoveryMs: 60_000, probes: 3, rampPercent: 10, rampIntervalMs: 1000 }
    ])
  })

  test('function-wide fallbacks answer every cause a rule leaves open, and requests no rule matches through a last rule', () => {
    const governance = {
      rules: [{ routes: ['/a'], concurrency: { limit: 1 }, fallbacks: { concurrencyLimited: { function: 'backup', version: 2 } } }],
      fallbacks: { timedOut: { body: 'too slow' }, concurrencyLimited: { status: 503 } }
    }
    const policy = policyOf([fn('f', {}, 'prod', governance), fn('backup')], [], 'prod/f')
    const slow = { kind: 'response', status: 504, body: 'too slow', headers: [] }
    assert.deepEqual(policy.rules, [
      { id: 'spec.governance.rules[0]', routes: [{ path: '/a' }], strategies: [{ kind: 'concurrency', name: 'rule-0', limit: 1 }], fallbacks: { 'timed-out': slow, 'concurrency-limited': { kind: 'function', name: 'backup', version: 2 } } },
      { id: 'spec.governance.fallbacks', routes: [], strategies: [], fallbacks: { 'timed-out': slow, 'concurrency-limited': { kind: 'response', status: 503, body: '', headers: [] } } }
    ])
  })

  test('a fallback to a function that does not exist, or to itself, is reported', () => {
    const governance = { fallbacks: { breakerOpen: { function: 'missing' }, overloaded: { function: 'f' } } }
    const compiled = compilePolicies([fn('f', {}, 'prod', governance)], []).get('prod/f')
    assert.deepEqual(compiled?.problems, [
      { rule: 'spec.governance.fallbacks', message: 'spec.governance.fallbacks.breakerOpen.function: function missing does not exist in namespace prod; until it does, the gateway answers with its own response' },
      { rule: 'spec.governance.fallbacks', message: 'spec.governance.fallbacks.overloaded.function: f is this function: a fallback to itself would meet the same limit again' }
    ])
  })

  test('retries: attempts, full-jitter backoff bounds and the budget as written, percent or ratio', () => {
    const governance = { retries: { attempts: 5, backoff: { base: '10ms', cap: '2s' }, budget: { ratio: '10%', minPerSecond: 1 } } }
    assert.deepEqual(policyOf([fn('f', {}, 'prod', governance)], [], 'prod/f').retry, { attempts: 5, baseMs: 10, capMs: 2000, budgetRatio: 0.1, budgetMinPerSecond: 1 })
  })

  test('the caller identity comes from the option, for the part that owns it', () => {
    const compiled = compilePolicies([fn('f')], [], { authOf: () => ({ mode: 'private', namespace: 'prod' }) })
    assert.deepEqual(compiled.get('prod/f')?.policy.auth, { mode: 'private', namespace: 'prod' })
  })
})
