import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { validateFunction } from '../../src/api/validate.js'
import { parseManifests } from '../../src/api/manifest.js'
import { designExample } from '../fixtures/design-example.js'
import { UnknownKindError, ValidationError, type FieldProblem } from '../../src/errors/index.js'


type Doc = Record<string, any>

function manifest (spec: Doc = {}, metadata: Doc = {}): Doc {
  return { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'hello', ...metadata }, spec: { source: './hello.ts', ...spec } }
}

function problemsOf (doc: unknown): FieldProblem[] {
  try {
    validateFunction(doc)
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`)
    return err.errors
  }
  assert.fail('expected the document to be rejected')
}

// "field: message" lines, the way the CLI prints them.
function reported (doc: unknown): string[] {
  return problemsOf(doc).map((p) => (p.field === '' ? p.message : `${p.field}: ${p.message}`))
}

function assertReports (doc: unknown, line: string): void {
  const lines = reported(doc)
  assert.ok(lines.includes(line), `expected ${JSON.stringify(line)} among:\n${lines.join('\n')}`)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

describe('valid manifests', () => {
  test('the example of DESIGN.md is accepted as written, triggers included', () => {
    const [document] = parseManifests(designExample)
    const fn = validateFunction(document?.doc)
    assert.equal(fn.metadata.name, 'hello')
    assert.deepEqual(fn.metadata.labels, { app: 'hello' })
    assert.deepEqual(fn.spec.env, { GREETING: 'hi' })
    assert.deepEqual(fn.spec.scale, { min: 0, max: 20, metric: 'concurrency', target: 10, utilization: 0.7, window: '60s', scaleDownDelay: '30s' })
    assert.deepEqual(fn.spec.http, { path: '/hello', auth: 'none' })
    assert.deepEqual(fn.spec.traffic, [{ version: 3, percent: 90 }, { version: 4, percent: 10, tag: 'canary' }])
    assert.deepEqual(fn.spec.triggers?.map((t) => 'cron' in t ? t.cron.schedule : t.queue.name), ['*/5 * * * *', 'orders'])
  })

  test('a minimal manifest comes back with every default filled in', () => {
    assert.deepEqual(validateFunction(manifest()), {
      apiVersion: 'roost.dev/v1',
      kind: 'Function',
      metadata: { name: 'hello', namespace: 'default', labels: {} },
      spec: {
        source: './hello.ts',
        env: {},
        timeout: '30s',
        memory: '128Mi',
        concurrency: 100,
        scale: { min: 0, max: 10, metric: 'concurrency', target: 10, utilization: 0.7, window: '60s', scaleDownDelay: '30s' },
        http: { auth: 'none' }
      }
    })
  })

  test('a partly written scale section is completed with the defaults of the rest', () => {
    const fn = validateFunction(manifest({ scale: { max: 3, metric: 'rps' } }))
    assert.deepEqual(fn.spec.scale, { min: 0, max: 3, metric: 'rps', target: 10, utilization: 0.7, window: '60s', scaleDownDelay: '30s' })
  })

  test('inline source defaults to the TypeScript loader', () => {
    const fn = validateFunction(manifest({ source: { inline: 'export default () => new Response("hi")' } }))
    assert.deepEqual(fn.spec.source, { inline: 'export default () => new Response("hi")', loader: 'ts' })
  })

  test('traffic stays absent when the manifest has none', () => {
    assert.equal('traffic' in validateFunction(manifest()).spec, false)
  })

  test('validation never mutates its input', () => {
    const input = deepFreeze(manifest({ scale: { max: 3 }, http: {}, traffic: [{ version: 1, percent: 100 }] }, { labels: { app: 'a' } }))
    const before = structuredClone(input)
    validateFunction(input) // a frozen input would throw on any write
    assert.deepEqual(input, before)
  })

  test('the result shares no object with the input', () => {
    const input = manifest({ env: { A: '1' }, traffic: [{ version: 1, percent: 100 }], source: { inline: 'x' } }, { labels: { app: 'a' } })
    const before = structuredClone(input)
    const fn = validateFunction(input)
    fn.metadata.labels.app = 'changed'
    fn.spec.env.A = 'changed'
    ;(fn.spec.traffic as Doc[])[0]!.percent = 0
    ;(fn.spec.source as Doc).inline = 'changed'
    assert.deepEqual(input, before)
  })

  test('label keys may carry a DNS prefix, as in Kubernetes', () => {
    const fn = validateFunction(manifest({}, { labels: { 'app.kubernetes.io/name': 'hello', tier: 'web_1.x' } }))
    assert.equal(fn.metadata.labels['app.kubernetes.io/name'], 'hello')
  })

  test('durations and memory sizes at the edges of their ranges are accepted', () => {
    validateFunction(manifest({ timeout: '100ms', memory: '16Mi', scale: { window: '6s', scaleDownDelay: '1s' } }))
    validateFunction(manifest({ timeout: '15m', memory: '8Gi' }))
  })

  test('an http path may have several segments and may start with "fn" when it is not /fn', () => {
    validateFunction(manifest({ http: { path: '/api/v1/hello.json' } }))
    validateFunction(manifest({ http: { path: '/fnord' } }))
  })
})

describe('messages name the field and say what was expected', () => {
  test('a name that is not a DNS label is rejected with the field path', () => {
    assert.deepEqual(reported(manifest({}, { name: 'Hello_World' })), [
      'metadata.name: "Hello_World" is not a valid name: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)'
    ])
  })

  test('a name that breaks two rules (too long and upper case) is reported once', () => {
    const problems = problemsOf(manifest({}, { name: 'A'.repeat(70) }))
    assert.equal(problems.length, 1)
    assert.equal(problems[0]!.field, 'metadata.name')
  })

  test('a namespace and a traffic tag follow the same DNS label rule', () => {
    assertReports(manifest({}, { namespace: 'my ns' }), 'metadata.namespace: "my ns" is not a valid name: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)')
    const lines = reported(manifest({ traffic: [{ version: 1, percent: 100, tag: '-canary' }] }))
    assert.match(lines[0]!, /^spec\.traffic\[0\]\.tag: "-canary" is not a valid name/)
  })

  test('an unknown field is reported as such', () => {
    assert.deepEqual(reported(manifest({ foo: 1 })), ['spec.foo: unknown field'])
  })

  test('an unknown field close to a known one suggests it', () => {
    assertReports(manifest({ timout: '1s' }), 'spec.timout: unknown field; did you mean "timeout"?')
    assertReports({ ...manifest(), Metadata: {} }, 'Metadata: unknown field; did you mean "metadata"?')
  })

  test('status is written by the platform, so a manifest may not carry it', () => {
    assertReports({ ...manifest(), status: {} }, 'status: unknown field')
  })

  test('a missing required field is reported as required', () => {
    const doc = manifest()
    delete doc.spec.source
    assert.deepEqual(reported(doc), ['spec.source: required'])
    assert.deepEqual(reported({ apiVersion: 'roost.dev/v1', kind: 'Function' }), ['metadata: required', 'spec: required'])
  })

  test('a value of the wrong type names the expected type and its range', () => {
    assert.deepEqual(reported(manifest({ scale: { max: 'ten' } })), ['spec.scale.max: expected an integer ≥ 1, got "ten"'])
    assertReports(manifest({ scale: { min: 1.5 } }), 'spec.scale.min: expected an integer ≥ 0, got 1.5')
    assertReports(manifest({ scale: 5 }), 'spec.scale: expected a mapping, got 5')
    assertReports(manifest({ env: [] }), 'spec.env: expected a mapping, got a list of 0 entries')
  })

  test('a number out of range names the range', () => {
    assertReports(manifest({ concurrency: 5000 }), 'spec.concurrency: expected an integer from 1 to 1000, got 5000')
    assertReports(manifest({ concurrency: 0 }), 'spec.concurrency: expected an integer from 1 to 1000, got 0')
    assertReports(manifest({ scale: { target: 0 } }), 'spec.scale.target: expected a number > 0, got 0')
    assertReports(manifest({ scale: { utilization: 1.5 } }), 'spec.scale.utilization: expected a number > 0 and ≤ 1, got 1.5')
  })

  test('a value outside a closed set lists the allowed values', () => {
    assertReports(manifest({ scale: { metric: 'cpu' } }), 'spec.scale.metric: expected "concurrency", "rps" or "queue", got "cpu"')
    assertReports(manifest({ http: { auth: 'bogus' } }), 'spec.http.auth: expected "none", "key", "hmac", "jwt" or "private" or a mapping with "mode", got "bogus"')
  })

  test('a malformed duration shows what a duration looks like', () => {
    assert.deepEqual(reported(manifest({ timeout: 'soon' })), ['spec.timeout: expected a duration such as "30s" or "500ms", got "soon"'])
    assertReports(manifest({ timeout: 30 }), 'spec.timeout: expected a duration such as "30s" or "500ms", got 30')
    assertReports(manifest({ scale: { window: '1d' } }), 'spec.scale.window: expected a duration such as "30s" or "500ms", got "1d"')
  })

  test('a duration outside its range names the range', () => {
    assertReports(manifest({ timeout: '50ms' }), 'spec.timeout: expected a duration from 100ms to 15m, got "50ms"')
    assertReports(manifest({ timeout: '1h' }), 'spec.timeout: expected a duration from 100ms to 15m, got "1h"')
    assertReports(manifest({ scale: { window: '5s' } }), 'spec.scale.window: expected a duration of at least 6s, got "5s"')
    assertReports(manifest({ scale: { scaleDownDelay: '999ms' } }), 'spec.scale.scaleDownDelay: expected a duration of at least 1s, got "999ms"')
  })

  test('a memory size must be written in Mi or Gi and lie between 16Mi and 8Gi', () => {
    assertReports(manifest({ memory: '128MB' }), 'spec.memory: expected a memory size such as "128Mi" or "1Gi", got "128MB"')
    assertReports(manifest({ memory: '8Mi' }), 'spec.memory: expected a memory size from 16Mi to 8Gi, got "8Mi"')
    assertReports(manifest({ memory: '9Gi' }), 'spec.memory: expected a memory size from 16Mi to 8Gi, got "9Gi"')
  })

  test('long values are shortened in messages', () => {
    const [line] = reported(manifest({}, { labels: { app: 'x'.repeat(100) } }))
    assert.equal(line, `metadata.labels.app: expected a string of at most 63 characters, got "${'x'.repeat(40)}…"`)
  })
})

describe('source: a path or inline code', () => {
  test('a source of neither shape says both shapes', () => {
    assert.deepEqual(reported(manifest({ source: 5 })), ['spec.source: expected a non-empty string or a mapping with "inline", got 5'])
  })

  test('an inline source with a problem reports that problem only, not the path alternative', () => {
    // the typo is the one mistake: the field it was meant as is not reported missing besides
    assert.deepEqual(reported(manifest({ source: { inlin: 'x' } })), ['spec.source.inlin: unknown field; did you mean "inline"?'])
    assert.deepEqual(reported(manifest({ source: { inline: 'x', loader: 'py' } })), ['spec.source.loader: expected "ts" or "js", got "py"'])
  })

  test('an empty path is rejected', () => {
    assert.deepEqual(reported(manifest({ source: '' })), ['spec.source: expected a non-empty string, got ""'])
  })
})

describe('env and labels', () => {
  test('an environment variable name must be an identifier', () => {
    assert.deepEqual(reported(manifest({ env: { '1ST': 'x' } })), [
      'spec.env["1ST"]: "1ST" is not a valid environment variable name: use letters, digits and "_", not starting with a digit'
    ])
  })

  test('names starting with ROOST_ are reserved for the platform', () => {
    assert.deepEqual(reported(manifest({ env: { ROOST_PORT: '1' } })), ['spec.env.ROOST_PORT: names starting with ROOST_ are reserved for the platform'])
  })

  test('environment values must be strings (quote numbers in YAML)', () => {
    assert.deepEqual(reported(manifest({ env: { PORT: 8080 } })), ['spec.env.PORT: expected a string or a mapping with "valueFrom", got 8080'])
  })

  test('a label key must look like a Kubernetes label key', () => {
    const [line] = reported(manifest({}, { labels: { 'my app': 'x' } }))
    assert.match(line!, /^metadata\.labels\["my app"\]: "my app" is not a valid label key/)
  })
})

describe('http', () => {
  test('a path must be "/" and segments, without a trailing slash', () => {
    for (const path of ['hello', '/', '/hello/', '/a//b', '/a b', '/é']) {
      const [line] = reported(manifest({ http: { path } }))
      assert.match(line!, /^spec\.http\.path: ".*" is not a valid path/, path)
    }
  })

  test('the gateway\'s own paths cannot be claimed', () => {
    for (const path of ['/fn', '/fn/other', '/healthz', '/metrics', '/async', '/async/hello', '/_roost', '/_roost/queues']) {
      assert.deepEqual(reported(manifest({ http: { path } })), [
        `spec.http.path: "${path}" is reserved: the gateway serves /fn/<name>, /async/…, /_roost/…, /healthz and /metrics itself`
      ])
    }
  })

  test('a path with a "." or ".." segment is rejected, since URLs resolve them away', () => {
    assert.match(reported(manifest({ http: { path: '/a/../b' } }))[0]!, /^spec\.http\.path: "\/a\/\.\.\/b" has a "\." or "\.\." segment/)
  })

  test('auth takes every mode; the rules of each are in auth-rules.test.ts', () => {
    for (const auth of ['none', 'key', 'private'] as const) assert.equal(validateFunction(manifest({ http: { auth } })).spec.http.auth, auth)
  })
})

describe('rules across fields', () => {
  test('scale.min may not exceed scale.max', () => {
    assert.deepEqual(reported(manifest({ scale: { min: 5, max: 2 } })), ['spec.scale.min: 5 is more than spec.scale.max (2)'])
  })

  test('scale.min is checked against the default max when max is not written', () => {
    assert.deepEqual(reported(manifest({ scale: { min: 20 } })), ['spec.scale.min: 20 is more than spec.scale.max (10, the default)'])
  })

  test('traffic percents must add up to 100', () => {
    assert.deepEqual(reported(manifest({ traffic: [{ version: 1, percent: 50 }, { version: 2, percent: 40 }] })), [
      'spec.traffic: the percents add up to 90; they must add up to 100'
    ])
  })

  test('a version or a tag may appear only once in traffic', () => {
    const lines = reported(manifest({
      traffic: [{ version: 1, percent: 50, tag: 'a' }, { version: 1, percent: 25 }, { version: 2, percent: 25, tag: 'a' }]
    }))
    assert.deepEqual(lines, [
      'spec.traffic[1].version: version 1 is listed twice (also at spec.traffic[0])',
      'spec.traffic[2].tag: tag "a" is used twice (also at spec.traffic[0])'
    ])
  })

  test('a traffic entry\'s problem is reported with its index', () => {
    assertReports(manifest({ traffic: [{ version: 1, percent: 60 }, { version: 2, percent: '40' }] }), 'spec.traffic[1].percent: expected an integer from 0 to 100, got "40"')
  })

  test('traffic has 1 to 10 entries', () => {
    assertReports(manifest({ traffic: [] }), 'spec.traffic: expected a list of 1 to 10 entries, got a list of 0 entries')
    const eleven = Array.from({ length: 11 }, (_, i) => ({ version: i + 1, percent: i === 0 ? 90 : 1 }))
    assertReports(manifest({ traffic: eleven }), 'spec.traffic: expected a list of 1 to 10 entries, got a list of 11 entries')
  })
})

describe('all problems at once', () => {
  test('every problem of a document is reported in one error, each field once', () => {
    const err = (() => {
      try {
        validateFunction(manifest({ timeout: 'soon', memory: '1Ti', foo: true, scale: { max: 0 }, triggers: [{}] }, { name: 'Bad' }))
      } catch (e) { return e }
    })()
    assert.ok(err instanceof ValidationError)
    const fields = err.errors.map((p) => p.field)
    assert.deepEqual([...fields].sort(), ['metadata.name', 'spec.foo', 'spec.memory', 'spec.scale.max', 'spec.timeout', 'spec.triggers[0]'])
    assert.equal(new Set(fields).size, fields.length)
    assert.equal(err.message, `${err.errors[0]!.field}: ${err.errors[0]!.message}`)
    assert.equal(err.code, 'ROOST_E_VALIDATION')
    assert.deepEqual(err.toProblem().errors, err.errors)
  })

  test('a document that is not a mapping is rejected as a whole', () => {
    assert.deepEqual(reported([1]), ['expected a mapping with apiVersion, kind, metadata and spec, got a list of 1 entry'])
    assert.deepEqual(reported(null), ['expected a mapping with apiVersion, kind, metadata and spec, got null'])
  })
})

describe('kind and apiVersion', () => {
  test('an unknown kind is an UnknownKindError naming what was found and what is supported', () => {
    assert.throws(() => validateFunction({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: {}, spec: 7 }), (err: unknown) => {
      assert.ok(err instanceof UnknownKindError)
      assert.equal(err.message, 'kind "Deployment" in apiVersion "apps/v1" is not served; supported: Function in roost.dev/v1; ' +
        'RateLimitStrategy, ThrottlingStrategy, ConcurrencyLimitStrategy, CircuitBreakerStrategy, HttpRequestFallbackAction, FaultToleranceRule in fault-tolerance.opensergo.io/v1alpha1; ' +
        'TrafficLabelRule in traffic.opensergo.io/v1alpha1')
      assert.equal(err.code, 'ROOST_E_UNKNOWN_KIND')
      assert.equal(err.field, 'kind')
      return true
    })
  })

  test('an unknown apiVersion of a known kind is an UnknownKindError at apiVersion', () => {
    assert.throws(() => validateFunction({ ...manifest(), apiVersion: 'roost.dev/v2' }), (err: unknown) => {
      assert.ok(err instanceof UnknownKindError)
      assert.match(err.message, /kind "Function" in apiVersion "roost.dev\/v2" is not served; supported: Function in roost.dev\/v1/)
      assert.equal(err.field, 'apiVersion')
      return true
    })
  })

  test('a kind in the wrong case gets a hint', () => {
    assert.throws(() => validateFunction({ ...manifest(), kind: 'function' }), (err: unknown) => {
      assert.ok(err instanceof UnknownKindError)
      assert.equal(err.hint, 'kinds are case-sensitive: write kind: Function')
      return true
    })
  })

  test('a missing kind or apiVersion is a validation problem, not an unknown kind', () => {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = manifest()
    assert.deepEqual(reported(rest), ['apiVersion: required', 'kind: required'])
  })
})

describe('scale: several metrics and schedules', () => {
  test('metrics lists what the autoscaler follows; metric and target then hold the first', () => {
    const fn = validateFunction(manifest({ scale: { metrics: [{ metric: 'rps', target: 50 }, { metric: 'concurrency', target: 5 }] } }))
    assert.deepEqual(fn.spec.scale.metrics, [{ metric: 'rps', target: 50 }, { metric: 'concurrency', target: 5 }])
    assert.equal(fn.spec.scale.metric, 'rps')
    assert.equal(fn.spec.scale.target, 50)
  })

  test('metrics excludes metric and target, and names each metric once', () => {
    assertReports(manifest({ scale: { metric: 'rps', metrics: [{ metric: 'rps', target: 5 }] } }), 'spec.scale.metric: give either spec.scale.metrics or spec.scale.metric, not both')
    assertReports(manifest({ scale: { metrics: [{ metric: 'rps', target: 5 }, { metric: 'rps', target: 6 }] } }), 'spec.scale.metrics[1].metric: "rps" is listed twice')
  })

  test('a schedule entry is a cron expression, a min and an end time, in UTC unless told', () => {
    const fn = validateFunction(manifest({ scale: { max: 10, schedule: [{ cron: '0 9 * * 1-5', min: 5, until: '18:00' }] } }))
    assert.deepEqual(fn.spec.scale.schedule, [{ cron: '0 9 * * 1-5', min: 5, until: '18:00', timezone: 'UTC' }])
  })

  test('a schedule entry is checked field by field', () => {
    const lines = reported(manifest({
      scale: {
        max: 4,
        schedule: [
          { cron: '0 9 * *', min: 1, until: '18:00' },
          { cron: '61 9 * * *', min: 1, until: '18:00' },
          { cron: '0 9 * * *', min: 5, until: '24:00', timezone: 'Mars/Olympus' }
        ]
      }
    }))
    assert.ok(lines.includes('spec.scale.schedule[0].cron: expected 5 fields (minute hour day-of-month month day-of-week), got 4 in "0 9 * *"'), lines.join('\n'))
    assert.ok(lines.some((l) => l.startsWith('spec.scale.schedule[1].cron: "61 9 * * *" is not a cron expression')), lines.join('\n'))
    assert.ok(lines.includes('spec.scale.schedule[2].until: expected a time of day as HH:MM (24-hour), such as "18:00", got "24:00"'), lines.join('\n'))
    assert.ok(lines.some((l) => l.startsWith('spec.scale.schedule[2].timezone: "Mars/Olympus" is not an IANA time zone')), lines.join('\n'))
    assert.ok(lines.includes('spec.scale.schedule[2].min: 5 is more than spec.scale.max (4)'), lines.join('\n'))
  })
})
