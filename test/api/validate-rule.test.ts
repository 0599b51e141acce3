// The OpenSergo kinds are validated as Functions are: the kind first (an
// unknown one named, with the nearest served kind), then the schema (every bad
// field with its path, a typo with "did you mean"), then what the schema
// cannot say; each field found at its line and column in the file. A rule
// naming what does not exist is stored, and its status says so.
import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer, locateField, parseManifests, validateFunction, validateManifest, validateRule } from '../../src/api/index.js'
import { UnknownKindError, ValidationError } from '../../src/errors/index.js'
import { Store } from '../../src/store/index.js'
import { issueExample } from '../fixtures/issue-11-example.js'

type Doc = Record<string, any>

const FT = 'fault-tolerance.opensergo.io/v1alpha1'

function problemsOf (doc: unknown): string[] {
  try {
    validateRule(doc)
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`)
    return err.errors.map((p) => `${p.field}: ${p.message}`)
  }
  assert.fail('expected the document to be rejected')
}

const rateLimit = (spec: Doc, metadata: Doc = {}): Doc => ({ apiVersion: FT, kind: 'RateLimitStrategy', metadata: { name: 'r', ...metadata }, spec })

/** The first problem of each document of a file, at its line and column, as `roost apply` prints it. */
function located (text: string): string[] {
  return parseManifests(text).flatMap((document) => {
    try {
      validateManifest(document.doc)
      return []
    } catch (err) {
      const field = err instanceof ValidationError ? (err.errors[0]?.field ?? '') : (err as { field?: string }).field ?? ''
      const { line, column } = locateField(document, field)
      return [`${line}:${column}: ${(err as Error).message}`]
    }
  })
}

describe('the issue example', () => {
  test('validates as it stands: the documents without a namespace are in default, the rule in prod', () => {
    const [strategy, fallback, rule] = parseManifests(issueExample).map((d) => validateManifest(d.doc))
    assert.deepEqual(strategy, {
      type: 'rule',
      resource: { apiVersion: FT, kind: 'RateLimitStrategy', metadata: { name: 'rate-limit-foo', namespace: 'default', labels: {} }, spec: { metricType: 'RequestAmount', limitMode: 'Global', threshold: 10, statDuration: '1s' } }
    })
    assert.equal(fallback?.resource.kind, 'HttpRequestFallbackAction')
    assert.deepEqual(rule?.resource.metadata, { name: 'my-rule', namespace: 'prod', labels: { app: 'my-app' } })
  })

  test('the control plane\'s and the zh spec\'s spellings are accepted too', () => {
    validateRule({ apiVersion: FT, kind: 'FaultToleranceRule', metadata: { name: 'my-opensergo-rule-1', labels: { app: 'foo-app' } }, spec: { targets: [{ targetResourceName: 'GET:/fooa' }], strategies: [{ name: 'rate-limit-foo', kind: 'RateLimitStrategy' }] } })
    validateRule(rateLimit({ metricType: 'RequestAmount', limitMode: 'Local', threshold: 3, statDurationSeconds: 5 }, { labels: { app: 'foo-app' } }))
    validateRule(rateLimit({ threshold: 2.5, stat_duration: 1, stat_duration_time_unit: 'SECOND' }))
    validateRule({ apiVersion: FT, kind: 'CircuitBreakerStrategy', metadata: { name: 'cb' }, spec: { strategy: 'SlowRequestRatio', triggerRatio: '60%', statDuration: '30s', recoveryTimeout: '5s', minRequestAmount: 5, slowConditions: { maxAllowedRt: '500ms' } } })
    validateRule({ apiVersion: FT, kind: 'ThrottlingStrategy', metadata: { name: 't' }, spec: { minIntervalOfRequests: '20ms', queueTimeout: '500ms' } })
    validateRule({ apiVersion: FT, kind: 'ConcurrencyLimitStrategy', metadata: { name: 'c' }, spec: { maxConcurrency: 8, limitMode: 'Local' } })
    validateRule({ apiVersion: 'traffic.opensergo.io/v1alpha1', kind: 'TrafficLabelRule', metadata: { name: 'gray' }, spec: { selector: { app: 'a' }, lane: { name: 'Gray' }, match: { headers: { 'X-User-Id': { exact: 12345 } }, uri: { exact: '/index' } } } })
  })
})

describe('unknown kinds', () => {
  test('a misspelt kind is refused at kind, listing what is served and the nearest kind', () => {
    assert.throws(() => validateManifest({ ...rateLimit({}), kind: 'RateLimitStrategie' }), (err: unknown) => {
      assert.ok(err instanceof UnknownKindError)
      assert.equal(err.field, 'kind')
      assert.match(err.message, /^kind "RateLimitStrategie" in apiVersion "fault-tolerance\.opensergo\.io\/v1alpha1" is not served; supported: Function in roost\.dev\/v1; RateLimitStrategy, /)
      assert.equal(err.hint, 'did you mean kind: RateLimitStrategy? (apiVersion fault-tolerance.opensergo.io/v1alpha1)')
      return true
    })
  })

  test('a served kind in the wrong group is refused at apiVersion, with the right one', () => {
    assert.throws(() => validateManifest({ ...rateLimit({}), apiVersion: 'traffic.opensergo.io/v1alpha1' }), (err: unknown) => {
      assert.ok(err instanceof UnknownKindError)
      assert.equal(err.field, 'apiVersion')
      assert.equal(err.hint, 'write apiVersion: fault-tolerance.opensergo.io/v1alpha1 for kind RateLimitStrategy')
      return true
    })
  })

  test('a rule where a Function is expected says where it belongs, and the other way round', () => {
    assert.throws(() => validateFunction(rateLimit({ threshold: 1, statDuration: '1s' })), /kind "RateLimitStrategy" in apiVersion "fault-tolerance\.opensergo\.io\/v1alpha1" is not a Function/)
    assert.throws(() => validateRule({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: {} }), (err: unknown) => {
      assert.ok(err instanceof UnknownKindError)
      assert.match(err.message, /is not a RateLimitStrategy or a ThrottlingStrategy/)
      return true
    })
  })

  test('an OpenSergo apiVersion without a kind asks for one of its kinds', () => {
    const { kind: _kind, ...rest } = rateLimit({})
    assert.deepEqual(problemsOf(rest), ['kind: required: one of RateLimitStrategy, ThrottlingStrategy, ConcurrencyLimitStrategy, CircuitBreakerStrategy, HttpRequestFallbackAction, FaultToleranceRule'])
  })
})

describe('bad fields', () => {
  test('a typo of a field is one problem, with the field it was meant as', () => {
    assert.deepEqual(problemsOf(rateLimit({ treshold: 10, statDuration: '1s' })), ['spec.treshold: unknown field; did you mean "threshold"?'])
  })

  test('every bad field at once, each with its path and what would be right', () => {
    assert.deepEqual(problemsOf({ apiVersion: FT, kind: 'CircuitBreakerStrategy', metadata: { name: 'Bad_Name' }, spec: { strategy: 'Slow', triggerRatio: true, statDuration: 'soon', recoveryTimeout: '5s' } }), [
      'metadata.name: "Bad_Name" is not a valid name: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)',
      'spec.strategy: expected "SlowRequestRatio" or "ErrorRequestRatio", got "Slow"',
      'spec.triggerRatio: expected a string or a number ≥ 0, got true',
      'spec.statDuration: expected a duration such as "1s", "500ms", "5min", "1h" or "1d", got "soon"'
    ])
  })

  test('what the schema cannot say: the ambiguous "m", a window given twice, a FaultToleranceRule that selects no app', () => {
    assert.deepEqual(problemsOf(rateLimit({ threshold: 1, statDuration: '5m' })), ['spec.statDuration: "5m" is ambiguous: "m" means minutes to some readers and milli to others; write "5min" for minutes or "5ms" for milliseconds'])
    assert.deepEqual(problemsOf(rateLimit({ threshold: 1, statDuration: '1s', statDurationSeconds: 1 })), ['spec.statDurationSeconds: give the window once: statDuration and statDurationSeconds are both given'])
    assert.deepEqual(problemsOf({ apiVersion: FT, kind: 'FaultToleranceRule', metadata: { name: 'r' }, spec: { targets: [{ targetResourceName: '/' }], strategies: [{ name: 's' }] } }), [
      'spec.selector: required: the app the rule applies to, as spec.selector.app or metadata.labels.app (functions are matched by their app label)'
    ])
  })

  test('a bad field is found at its line and column, in the third document of the file', () => {
    const text = issueExample.replace("strategies: [{ name: rate-limit-foo }]", 'strategies: [{ name: rate-limit-foo, kind: RateLimit }]')
    assert.deepEqual(located(text), ['22:40: spec.strategies[0].kind: expected "RateLimitStrategy", "ThrottlingStrategy", "ConcurrencyLimitStrategy" or "CircuitBreakerStrategy", got "RateLimit"'])
    const header = issueExample.replace('value: "foo"', 'value: 7')
    assert.deepEqual(located(header), ['14:58: spec.behaviorDesc.responseAdditionalHeaders[0].value: expected a string of at most 4096 characters, got 7'])
  })
})

describe('names that resolve to nothing are stored and reported on the rule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roost-rules-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('PUT of a rule naming a missing strategy: 201, the rule stored, its status Unresolved with the field; a namespace token elsewhere gets 403', async () => {
    const store = Store.open(dir)
    const app = await createApiServer({ store, live: { instances: () => [], serving: () => undefined, scaling: () => undefined, metrics: async () => '', onLogs: () => () => {} } })
    try {
      const admin = store.createToken({ namespace: '*' }).token
      const team = store.createToken({ namespace: 'team-a' }).token
      const manifest = { apiVersion: FT, kind: 'FaultToleranceRule', metadata: { name: 'my-rule', namespace: 'prod', labels: { app: 'foo-app' } }, spec: { targets: [{ targetResourceName: '/foo' }], strategies: [{ name: 'missing' }] } }
      const url = `/apis/${FT}/namespaces/prod/faulttolerancerules/my-rule`
      const put = await app.inject({ method: 'PUT', url, headers: { authorization: `Bearer ${admin}` }, payload: { manifest } })
      assert.equal(put.statusCode, 201, put.body)
      const answer = put.json() as { result: string, rule: { status: { problems: Array<{ rule: string, message: string }>, conditions: Array<{ type: string, status: string, reason: string }> } } }
      assert.equal(answer.result, 'created')
      assert.deepEqual(answer.rule.status.problems, [{ rule: 'FaultToleranceRule/my-rule', message: 'spec.strategies[0]: no strategy named missing exists in namespace prod (looked for RateLimitStrategy, ThrottlingStrategy, ConcurrencyLimitStrategy, CircuitBreakerStrategy)' }])
      assert.deepEqual(answer.rule.status.conditions.map((c) => [c.type, c.status, c.reason]), [['Resolved', 'False', 'Unresolved'], ['Applied', 'False', 'SelectsNoFunction']])
      assert.equal(store.getResource('FaultToleranceRule', 'prod', 'my-rule')?.name, 'my-rule')

      const bad = await app.inject({ method: 'PUT', url, headers: { authorization: `Bearer ${admin}` }, payload: { manifest: { ...manifest, spec: { ...manifest.spec, targets: [] } } } })
      assert.equal(bad.statusCode, 422)
      assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8')
      assert.deepEqual((bad.json() as { errors: unknown[] }).errors, [{ field: 'spec.targets', message: 'expected a list of 1 to 100 entries, got a list of 0 entries' }])

      const elsewhere = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${team}` } })
      assert.equal(elsewhere.statusCode, 403)
      const wrongKind = await app.inject({ method: 'PUT', url: `/apis/${FT}/namespaces/prod/ratelimitstrategies/my-rule`, headers: { authorization: `Bearer ${admin}` }, payload: { manifest } })
      assert.deepEqual((wrongKind.json() as { errors: unknown[] }).errors, [{ field: 'kind', message: '"FaultToleranceRule" does not match the kind in the URL (RateLimitStrategy)' }])
    } finally {
      await app.close()
      store.close()
    }
  })

  test('a namespace holding only rules exists, is refused on delete without cascade, and goes with them with it', async () => {
    const store = Store.open(join(dir, 'cascade'))
    const app = await createApiServer({ store, live: { instances: () => [], serving: () => undefined, scaling: () => undefined, metrics: async () => '', onLogs: () => () => {} } })
    try {
      const headers = { authorization: `Bearer ${store.createToken({ namespace: '*' }).token}` }
      const manifest = { apiVersion: FT, kind: 'RateLimitStrategy', metadata: { name: 'ten', namespace: 'team-r' }, spec: { threshold: 10, statDuration: '1s' } }
      assert.equal((await app.inject({ method: 'PUT', url: `/apis/${FT}/namespaces/team-r/ratelimitstrategies/ten`, headers, payload: { manifest } })).statusCode, 201)
      const listed = (await app.inject({ method: 'GET', url: '/apis/roost.dev/v1/namespaces/team-r', headers })).json() as { status: { rules: number } }
      assert.equal(listed.status.rules, 1)
      const refused = await app.inject({ method: 'DELETE', url: '/apis/roost.dev/v1/namespaces/team-r', headers })
      assert.equal(refused.statusCode, 409)
      assert.match((refused.json() as { detail: string }).detail, /^namespace team-r holds 1 rule\(s\): RateLimitStrategy\/ten$/)
      const deleted = await app.inject({ method: 'DELETE', url: '/apis/roost.dev/v1/namespaces/team-r?cascade=true', headers })
      assert.deepEqual((deleted.json() as { rules: string[] }).rules, ['RateLimitStrategy/ten'])
      assert.equal(store.listResources('RateLimitStrategy').length, 0)
      assert.equal((await app.inject({ method: 'GET', url: '/apis/roost.dev/v1/namespaces/team-r', headers })).statusCode, 404)
    } finally {
      await app.close()
      store.close()
    }
  })
})
