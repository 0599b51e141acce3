// Every spelling the OpenSergo sources use reads the same, and what cannot be
// read is reported with its field: the en spec's statDuration "1s", the zh
// spec's and the CRD's statDurationSeconds, the proto's stat_duration with its
// unit (and its JSON mapping), percentages and ratios, METHOD:path targets,
// and the ambiguous "m" refused with the reason.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeRule, summarizeRule, type RuleResource, type RateLimitStrategySpec, type Strategy } from '../../src/governance/index.js'

function read (rule: RuleResource): { value: unknown, problems: string[] } {
  const problems: string[] = []
  const value = normalizeRule(rule, (field, message) => problems.push(`${field}: ${message}`))
  return { value, problems }
}

const rateLimit = (spec: Partial<RateLimitStrategySpec>): RuleResource =>
  ({ kind: 'RateLimitStrategy', namespace: 'default', name: 'r', labels: {}, spec: { threshold: 10, ...spec } as RateLimitStrategySpec })

function windowOf (spec: Partial<RateLimitStrategySpec>): number | string[] {
  const { value, problems } = read(rateLimit(spec))
  if (value === undefined) return problems
  return ((value as { strategy: Strategy }).strategy as { windowMs: number }).windowMs
}

describe('the stat window of a RateLimitStrategy', () => {
  test('statDuration "1s" (en), statDurationSeconds 1 (zh, CRD), stat_duration 1 SECOND (proto) and statDuration 1000 MILLISECOND (proto JSON) are one second', () => {
    assert.equal(windowOf({ statDuration: '1s' }), 1000)
    assert.equal(windowOf({ statDurationSeconds: 1 }), 1000)
    assert.equal(windowOf({ stat_duration: 1, stat_duration_time_unit: 'SECOND' }), 1000)
    assert.equal(windowOf({ statDuration: 1000, statDurationTimeUnit: 'MILLISECOND' }), 1000)
  })

  test('every unit of the CRD pattern but "m": ms, s, min, minute, h, d', () => {
    assert.equal(windowOf({ statDuration: '250ms' }), 250)
    assert.equal(windowOf({ statDuration: '5min' }), 300_000)
    assert.equal(windowOf({ statDuration: '2minute' }), 120_000)
    assert.equal(windowOf({ statDuration: '1h' }), 3_600_000)
    assert.equal(windowOf({ statDuration: '1d' }), 86_400_000)
  })

  test('"5m" is refused: it reads as minutes to some and milli to others', () => {
    assert.deepEqual(windowOf({ statDuration: '5m' }), [
      'spec.statDuration: "5m" is ambiguous: "m" means minutes to some readers and milli to others; write "5min" for minutes or "5ms" for milliseconds'
    ])
  })

  test('no window, two windows, a unit without its number, and an integer without a unit are each reported on their field', () => {
    assert.deepEqual(windowOf({}), ['spec.statDuration: required: the window the threshold counts over, as statDuration: "1s" or statDurationSeconds: 1'])
    assert.deepEqual(windowOf({ statDuration: '1s', statDurationSeconds: 1 }), ['spec.statDurationSeconds: give the window once: statDuration and statDurationSeconds are both given'])
    assert.deepEqual(windowOf({ statDuration: '1s', statDurationTimeUnit: 'SECOND' }), ['spec.statDurationTimeUnit: goes with an integer statDuration (the proto\'s form); with statDuration: "1s" the unit is in the text'])
    assert.deepEqual(windowOf({ statDuration: 3 }), ['spec.statDuration: 3 has no unit: write statDuration: "3s", or add statDurationTimeUnit'])
    assert.deepEqual(windowOf({ stat_duration: 3 }), ['spec.stat_duration_time_unit: required with stat_duration: MILLISECOND, SECOND, MINUTE, HOUR or DAY'])
  })

  test('zero and more than a day are refused', () => {
    assert.deepEqual(windowOf({ statDuration: '0s' }), ['spec.statDuration: expected a duration above zero, got "0s"'])
    assert.deepEqual(windowOf({ statDuration: '2d' }), ['spec.statDuration: expected a duration of at most a day, got "2d"'])
  })

  test('a threshold that is a double (the spec) or an int (the CRD) is the limit as written', () => {
    const limitOf = (threshold: number): unknown => ((read(rateLimit({ threshold, statDurationSeconds: 1 })).value as { strategy: { limit: number } }).strategy.limit)
    assert.equal(limitOf(10), 10)
    assert.equal(limitOf(2.5), 2.5)
  })
})

describe('circuit breakers', () => {
  const breaker = (spec: Record<string, unknown>): RuleResource => ({
    kind: 'CircuitBreakerStrategy', namespace: 'default', name: 'cb', labels: {},
    spec: { strategy: 'ErrorRequestRatio', triggerRatio: '60%', statDuration: '1s', recoveryTimeout: '5s', ...spec } as never
  })
  const thresholdOf = (triggerRatio: unknown): unknown => {
    const { value, problems } = read(breaker({ triggerRatio }))
    return value === undefined ? problems : (value as { strategy: { threshold: number } }).strategy.threshold
  }

  test('triggerRatio "60%" and 0.6 are the same ratio; 0% and 100% are bounds', () => {
    assert.equal(thresholdOf('60%'), 0.6)
    assert.equal(thresholdOf(0.6), 0.6)
    assert.equal(thresholdOf('0%'), 0)
    assert.equal(thresholdOf('100%'), 1)
  })

  test('60 as a number is refused with the two spellings that mean 60 percent', () => {
    assert.deepEqual(thresholdOf(60), ['spec.triggerRatio: expected a percentage such as "60%" or a number from 0 to 1, got 60; for 60 percent write "60%" or 0.6'])
    assert.deepEqual(thresholdOf('101%'), ['spec.triggerRatio: expected a percentage such as "60%" or a number from 0 to 1, got "101%"'])
  })

  test('SlowRequestRatio needs slowConditions.maxAllowedRt', () => {
    assert.deepEqual(read(breaker({ strategy: 'SlowRequestRatio' })).problems, [
      'spec.slowConditions: required with strategy SlowRequestRatio: slowConditions: { maxAllowedRt: "500ms" } says which requests are slow'
    ])
  })

  test('a window under 100 ms is one bucket; a recovery longer than a minute is its own cap', () => {
    const { value } = read(breaker({ statDuration: '50ms', recoveryTimeout: '2min' }))
    const strategy = (value as { strategy: { buckets: number, recoveryMs: number, maxRecoveryMs: number } }).strategy
    assert.deepEqual([strategy.buckets, strategy.recoveryMs, strategy.maxRecoveryMs], [1, 120_000, 120_000])
  })
})

describe('fault tolerance rules', () => {
  const rule = (spec: Record<string, unknown>, labels: Record<string, string> = { app: 'a' }): RuleResource =>
    ({ kind: 'FaultToleranceRule', namespace: 'default', name: 'r', labels, spec: { targets: [{ targetResourceName: '/foo' }], strategies: [{ name: 's' }], ...spec } as never })

  test('targets: "/foo", "GET:/foo" and "/api/*"; anything else is reported with the shapes that work', () => {
    const routes = (read(rule({ targets: [{ targetResourceName: '/foo' }, { targetResourceName: 'get:/foo' }, { targetResourceName: '/api/*' }] })).value as { routes: unknown }).routes
    assert.deepEqual(routes, [{ path: '/foo' }, { method: 'GET', path: '/foo' }, { path: '/api/*' }])
    assert.deepEqual(read(rule({ targets: [{ targetResourceName: 'foo' }] })).problems, [
      'spec.targets[0].targetResourceName: expected a path such as "/foo", a method and a path such as "GET:/foo", or a prefix such as "/api/*", got "foo"'
    ])
    assert.deepEqual(read(rule({ targets: [{ targetResourceName: '/a*b' }] })).problems, ['spec.targets[0].targetResourceName: "/a*b": "*" may only end a path, as "/api/*" (every path under /api/)'])
  })

  test('a rule that selects no app is reported: neither spec.selector nor metadata.labels.app', () => {
    assert.deepEqual(read(rule({}, {})).problems, ['spec.selector: required: the app the rule applies to, as spec.selector.app or metadata.labels.app (functions are matched by their app label)'])
  })

  test('fallbackAction and action together, and a fallback of another kind, are reported', () => {
    assert.deepEqual(read(rule({ fallbackAction: 'f', action: { name: 'f', kind: 'HttpRequestFallbackAction' } })).problems, ['spec.action: give the fallback once: fallbackAction (the spec) or action (the proto), not both'])
    assert.deepEqual(read(rule({ fallbackAction: { name: 'f', kind: 'RateLimitStrategy' } })).problems, ['spec.fallbackAction.kind: expected "HttpRequestFallbackAction", got "RateLimitStrategy"'])
  })

  test('a target or a strategy listed twice is reported', () => {
    assert.deepEqual(read(rule({ targets: [{ targetResourceName: '/a' }, { targetResourceName: '/a' }], strategies: [{ name: 's' }, { name: 's' }] })).problems, [
      'spec.targets[1].targetResourceName: "/a" is listed twice (also at spec.targets[0])',
      'spec.strategies[1]: s is listed twice (also at spec.strategies[0])'
    ])
  })
})

describe('fallback actions', () => {
  const action = (behaviorDesc: Record<string, unknown>): RuleResource =>
    ({ kind: 'HttpRequestFallbackAction', namespace: 'default', name: 'f', labels: {}, spec: { behavior: 'ReturnProvidedResponse', behaviorDesc } as never })

  test('a header that would split the response, or that frames it, is refused', () => {
    assert.deepEqual(read(action({ responseAdditionalHeaders: [{ key: 'X-A', value: 'a\r\nSet-Cookie: x' }, { key: 'Content-Length', value: '1' }, { key: 'bad name', value: 'x' }] })).problems, [
      'spec.behaviorDesc.responseAdditionalHeaders[0]: the value of X-A must be text of at most 4096 characters without line breaks',
      'spec.behaviorDesc.responseAdditionalHeaders[1]: Content-Length frames the message: the gateway sets it, a fallback may not',
      'spec.behaviorDesc.responseAdditionalHeaders[2]: "bad name" is not a header name: use letters, digits and !#$%&\'*+.^_`|~-'
    ])
  })

  test('a status outside 200 to 599 is refused', () => {
    assert.deepEqual(read(action({ responseStatusCode: 99 })).problems, ['spec.behaviorDesc.responseStatusCode: expected an HTTP status from 200 to 599, got 99'])
  })
})

describe('traffic label rules', () => {
  const label = (match: unknown): RuleResource => ({ kind: 'TrafficLabelRule', namespace: 'default', name: 't', labels: { app: 'a' }, spec: { lane: 'gray', match } as never })

  test('an empty match, a match of two kinds at once, and a regex with a nested quantifier are refused', () => {
    assert.deepEqual(read(label({})).problems, ['spec.match: a match needs at least one of headers, cookies, queryParams or uri: an empty one would label every request'])
    assert.deepEqual(read(label({ headers: { x: { exact: 'a', prefix: 'b' } } })).problems, ['spec.match.headers.x: give one of exact, prefix or regex, not exact and prefix'])
    assert.deepEqual(read(label({ uri: { regex: '^(a+)+$' } })).problems, ['spec.match.uri.regex: "^(a+)+$" repeats a repeated group, which can take exponential time on a crafted request; write it without the nested quantifier'])
    assert.deepEqual(read(label({ uri: { regex: '(' } })).problems.length, 1)
  })
})

describe('summaries', () => {
  test('each kind in one line', () => {
    assert.equal(summarizeRule(rateLimit({ statDuration: '1s' })), '10 per 1s, sliding-window, per function')
    assert.equal(summarizeRule({ kind: 'HttpRequestFallbackAction', namespace: 'd', name: 'f', labels: {}, spec: { behavior: 'ReturnProvidedResponse', behaviorDesc: { responseStatusCode: 429, responseContentBody: 'Blocked by Sentinel', responseAdditionalHeaders: [{ key: 'X-Sentinel-Limit', value: 'foo' }] } } }), '429 "Blocked by Sentinel" +1 header')
    assert.equal(summarizeRule({ kind: 'FaultToleranceRule', namespace: 'd', name: 'r', labels: { app: 'my-app' }, spec: { selector: { app: 'foo-app' }, targets: [{ targetResourceName: '/foo' }], strategies: [{ name: 'rate-limit-foo' }], fallbackAction: 'fallback-foo' } }), 'app=foo-app /foo: rate-limit-foo → fallback-foo')
    assert.equal(summarizeRule({ kind: 'TrafficLabelRule', namespace: 'd', name: 't', labels: { app: 'a' }, spec: { lane: 'gray', match: { headers: { 'X-User': { exact: '1' } } } } }), 'app=a → lane gray when header x-user = "1"')
    assert.equal(summarizeRule(rateLimit({ statDuration: '5m' })).startsWith('<cannot apply: spec.statDuration: "5m" is ambiguous'), true)
  })
})
