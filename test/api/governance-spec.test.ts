// A Function's spec.governance: taken as written, checked by its schema and by
// the governance part's own reading (what goes with what), every problem with
// its field; a change of it is not a change of how instances run, so it makes
// no new version.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { validateFunction, versionConfigHash, versionConfigOf } from '../../src/api/index.js'
import { ValidationError } from '../../src/errors/index.js'

type Doc = Record<string, any>

const manifest = (spec: Doc): Doc => ({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f', labels: { app: 'f' } }, spec: { source: './f.ts', ...spec } })
const governed = (governance: Doc, spec: Doc = {}): Doc => manifest({ ...spec, governance })

function reported (doc: unknown): string[] {
  try {
    validateFunction(doc)
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err))
    return err.errors.map((p) => `${p.field}: ${p.message}`)
  }
  assert.fail('expected the document to be rejected')
}

const FULL = {
  rules: [
    { name: 'api', routes: ['/api/*', 'GET:/health'], rateLimit: { algorithm: 'token-bucket', limit: 100, window: '1s', burst: 20, key: 'header:X-Tenant', maxKeys: 1000 }, fallbacks: { rateLimited: { status: 429, body: 'slow down', headers: { 'Retry-After': '1' } } } },
    { throttle: { interval: '20ms', maxQueueing: '500ms', key: 'ip' }, concurrency: { limit: 10 } },
    { breaker: { trigger: 'slow-ratio', threshold: '50%', slow: '500ms', window: '10s', buckets: 10, minRequests: 20, recovery: '5s', maxRecovery: '1m', probes: 3, ramp: { percent: 10, interval: '2s' } }, fallbacks: { breakerOpen: { function: 'backup', version: 2 } } }
  ],
  fallbacks: { overloaded: { status: 503, body: 'busy' }, timedOut: { body: 'too slow' } },
  retries: { attempts: 3, backoff: { base: '25ms', cap: '1s' }, budget: { ratio: 0.2, minPerSecond: 3 } },
  lanes: [{ lane: 'gray', headers: { 'x-user-id': { exact: 12345 } }, cookies: { beta: { prefix: '1' } }, query: { v: { regex: '^2' } }, path: { prefix: '/beta' } }]
}

describe('valid governance', () => {
  test('every field at once is taken as written, and traffic entries may name a lane', () => {
    const fn = validateFunction(governed(FULL, { traffic: [{ version: 1, percent: 100 }, { version: 2, percent: 0, lane: 'gray' }] }))
    assert.deepEqual(fn.spec.governance, FULL)
    assert.deepEqual(fn.spec.traffic, [{ version: 1, percent: 100 }, { version: 2, percent: 0, lane: 'gray' }])
  })

  test('a function without governance has none in its spec', () => {
    assert.equal('governance' in validateFunction(manifest({})).spec, false)
  })

  test('governance is not part of a version: changing it makes no new version', () => {
    const plain = validateFunction(manifest({}))
    const withRules = validateFunction(governed(FULL))
    assert.equal(versionConfigHash(versionConfigOf(withRules.spec, 'b')), versionConfigHash(versionConfigOf(plain.spec, 'b')))
  })
})

describe('bad governance', () => {
  test('a typo is an unknown field with the name meant', () => {
    assert.deepEqual(reported(governed({ rules: [{ rateLimits: { limit: 1 } }] })), ['spec.governance.rules[0].rateLimits: unknown field; did you mean "rateLimit"?'])
  })

  test('shapes: a key, a route, a duration, a percentage and a lane name each say what they look like', () => {
    assert.deepEqual(reported(governed({ rules: [{ routes: ['foo'], rateLimit: { limit: 1, key: 'cookie:x', window: 'soon' } }], retries: { budget: { ratio: '20 percent' } }, lanes: [{ lane: 'no spaces', path: { exact: '/' } }] })), [
      'spec.governance.rules[0].routes[0]: expected a path such as "/foo", a method and a path such as "GET:/foo", or a prefix such as "/api/*", got "foo"',
      'spec.governance.rules[0].rateLimit.window: expected a duration such as "30s" or "500ms", got "soon"',
      'spec.governance.rules[0].rateLimit.key: expected function, route, caller, ip, header:NAME or query:NAME, got "cookie:x"',
      'spec.governance.retries.budget.ratio: expected a percentage such as "50%", got "20 percent"',
      'spec.governance.lanes[0].lane: "no spaces" is not a valid lane name: use letters, digits, "-", "_" and ".", starting and ending with a letter or digit (at most 63 characters)'
    ])
  })

  test('what goes with what: burst with token-bucket, slow with slow-ratio, a fallback a response or a function', () => {
    assert.deepEqual(reported(governed({
      rules: [
        { rateLimit: { limit: 5, burst: 10 } },
        { breaker: { threshold: 0.5, slow: '1s' } },
        { breaker: { trigger: 'slow-ratio', threshold: 0.5 } },
        { breaker: { trigger: 'error-count', threshold: 0.5 } },
        { concurrency: { limit: 1 }, fallbacks: { concurrencyLimited: { function: 'backup', body: 'x' } } },
        {}
      ]
    })), [
      'spec.governance.rules[0].rateLimit.burst: a burst is for algorithm token-bucket; sliding-window admits at most the limit per window',
      'spec.governance.rules[1].breaker.slow: slow is for trigger slow-ratio; this breaker counts the ratio of errors',
      'spec.governance.rules[2].breaker.slow: required with trigger slow-ratio: a call that takes longer than this is slow, such as "500ms"',
      'spec.governance.rules[3].breaker.threshold: with trigger error-count the threshold is a count of errors (a whole number ≥ 1), got 0.5',
      'spec.governance.rules[4].fallbacks.concurrencyLimited: a fallback is a response (status, body, headers) or a function to call, not both',
      'spec.governance.rules[5]: a rule needs rateLimit, throttle, concurrency, breaker or fallbacks'
    ])
  })

  test('a header that would split a fallback response, a backoff cap under its base, a lane with no condition, a lane named twice in traffic', () => {
    assert.deepEqual(reported(governed(
      { fallbacks: { overloaded: { headers: { 'X-A': 'a\nb' } } }, retries: { backoff: { base: '2s', cap: '1s' } }, lanes: [{ lane: 'gray' }] },
      { traffic: [{ version: 1, percent: 100, lane: 'gray' }, { version: 2, percent: 0, lane: 'gray' }] }
    )), [
      'spec.traffic[1].lane: lane "gray" is used twice (also at spec.traffic[0])',
      'spec.governance.fallbacks.overloaded.headers: the value of X-A must be text of at most 4096 characters without line breaks',
      'spec.governance.retries.backoff.cap: the cap (1000 ms) is below the base (2000 ms)',
      'spec.governance.lanes[0]: a lane needs at least one of headers, cookies, query or path: an empty one would take every request'
    ])
  })

  test('a regex that could take exponential time is refused', () => {
    assert.deepEqual(reported(governed({ lanes: [{ lane: 'a', headers: { x: { regex: '(a*)*b' } } }] })), [
      'spec.governance.lanes[0].headers.x.regex: "(a*)*b" repeats a repeated group, which can take exponential time on a crafted request; write it without the nested quantifier'
    ])
  })
})
