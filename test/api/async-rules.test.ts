import { test } from 'node:test'
import assert from 'node:assert/strict'
import { validateFunction } from '../../src/api/validate.js'
import { ValidationError } from '../../src/errors/index.js'

// spec.async: where the results of the function's async calls go.

type Doc = Record<string, any>

function manifest (spec: Doc = {}): Doc {
  return { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'worker' }, spec: { source: './worker.ts', ...spec } }
}

function reported (doc: unknown): string[] {
  try {
    validateFunction(doc)
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`)
    return err.errors.map((p) => `${p.field}: ${p.message}`)
  }
  assert.fail('expected the document to be rejected')
}

test('spec.async keeps its destinations as written; the resource round-trips through JSON', () => {
  const resource = validateFunction(manifest({ async: { onSuccess: { queue: 'results' }, onFailure: { function: 'audit' } } }))
  assert.deepEqual(resource.spec.async, { onSuccess: { queue: 'results' }, onFailure: { function: 'audit' } })
  assert.deepEqual(JSON.parse(JSON.stringify(resource)), resource)
})

test('a manifest without spec.async, or with an empty one, has none in its spec', () => {
  assert.equal('async' in validateFunction(manifest()).spec, false)
  assert.equal('async' in validateFunction(manifest({ async: {} })).spec, false)
})

test('a destination is exactly one of queue and function, reported at its field', () => {
  assert.deepEqual(reported(manifest({ async: { onSuccess: {}, onFailure: { queue: 'a', function: 'b' } } })), [
    'spec.async.onSuccess: a destination is exactly one of queue: NAME or function: NAME, got neither',
    'spec.async.onFailure: a destination is exactly one of queue: NAME or function: NAME, got both'
  ])
})

test('a destination names a queue or function by a DNS label, and nothing else is accepted', () => {
  const problems = reported(manifest({ async: { onSuccess: { queue: 'Bad_Name' }, onFailure: { url: 'http://x' }, maxAge: '1h' } }))
  assert.ok(problems.some((p) => p.startsWith('spec.async.onSuccess.queue: ')), problems.join('\n'))
  assert.ok(problems.some((p) => p.startsWith('spec.async.onFailure')), problems.join('\n'))
  assert.ok(problems.some((p) => p.includes('maxAge')), problems.join('\n'))
})
