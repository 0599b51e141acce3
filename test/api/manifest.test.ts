import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { describeDocument, locateField, parseManifests, MAX_MANIFEST_BYTES } from '../../src/api/manifest.js'
import { validateFunction } from '../../src/api/validate.js'
import { ManifestParseError, ValidationError } from '../../src/errors/index.js'

function parseError (text: string, file?: string): ManifestParseError {
  try {
    parseManifests(text, file)
  } catch (err) {
    assert.ok(err instanceof ManifestParseError, `expected a ManifestParseError, got ${String(err)}`)
    return err
  }
  assert.fail('expected the text to be rejected')
}

describe('documents', () => {
  test('a single document is parsed into a plain value with its index and line', () => {
    assert.deepEqual(parseManifests('apiVersion: roost.dev/v1\nkind: Function\n'), [
      { index: 0, line: 1, doc: { apiVersion: 'roost.dev/v1', kind: 'Function' } }
    ])
  })

  test('several documents separated by --- come back in order, each with the line of its first content', () => {
    const text = [
      'kind: Function', //               line 1
      'metadata: { name: a }',
      '---',
      '# the second function', //        line 4
      'kind: Function', //               line 5
      'metadata: { name: b }',
      '---',
      'kind: Function', //               line 8
      'metadata: { name: c }'
    ].join('\n')
    const docs = parseManifests(text)
    assert.deepEqual(docs.map((d) => [d.index, d.line, describeDocument(d.doc)]), [
      [0, 1, 'function/a'],
      [1, 5, 'function/b'],
      [2, 8, 'function/c']
    ])
  })

  test('empty documents are skipped and do not count in the index', () => {
    const text = '---\n---\n# only a comment\n---\nkind: Function\n---\n~\n---\n'
    assert.deepEqual(parseManifests(text), [{ index: 0, line: 5, doc: { kind: 'Function' } }])
  })

  test('an empty text has no documents', () => {
    assert.deepEqual(parseManifests(''), [])
    assert.deepEqual(parseManifests('# nothing here\n'), [])
  })

  test('JSON is accepted, since it is YAML', () => {
    const json = JSON.stringify({ apiVersion: 'roost.dev/v1', kind: 'Function', spec: { env: { A: 'x' } } }, null, 2)
    assert.deepEqual(parseManifests(json)[0]?.doc, { apiVersion: 'roost.dev/v1', kind: 'Function', spec: { env: { A: 'x' } } })
  })

  test('yes, no and on stay strings (YAML 1.2), so env values are not silently turned into booleans', () => {
    assert.deepEqual(parseManifests('env: { A: yes, B: no, C: on }')[0]?.doc, { env: { A: 'yes', B: 'no', C: 'on' } })
  })

  test('a block scalar keeps inline code as written', () => {
    const text = 'spec:\n  source:\n    inline: |\n      export default () => {\n        return new Response("hi")\n      }\n'
    assert.deepEqual(parseManifests(text)[0]?.doc, {
      spec: { source: { inline: 'export default () => {\n  return new Response("hi")\n}\n' } }
    })
  })

  test('a document that is not a mapping is rejected at its line', () => {
    const err = parseError('kind: Function\n---\n- a\n- b\n', 'fns.yaml')
    assert.equal(err.line, 3)
    assert.equal(err.message, 'fns.yaml:3: expected a mapping (apiVersion, kind, metadata, spec), got a list')
    assert.equal(parseError('just a string').message, '1: expected a mapping (apiVersion, kind, metadata, spec), got a string')
  })
})

describe('syntax errors', () => {
  test('a syntax error gives the yaml library\'s message with the line and column', () => {
    const err = parseError('kind: Function\nspec:\n  - @x\n', 'hello.yaml')
    assert.equal(err.line, 3)
    assert.equal(err.column, 5)
    assert.equal(err.message, 'hello.yaml:3:5: Plain value cannot start with reserved character @')
    assert.equal(err.code, 'ROOST_E_MANIFEST_PARSE')
    assert.deepEqual([err.toProblem().line, err.toProblem().column], [3, 5])
  })

  test('the message is one line, without the source excerpt', () => {
    assert.equal(parseError('a: 1\nb:\n  c: 2\n    d: 3\n').message.includes('\n'), false)
  })

  test('with several errors, the first in the text is reported', () => {
    const err = parseError('a: 1\nb: [1, 2\n---\nc: @x\n')
    assert.equal(err.line, 3)
  })

  test('an error in a later document is reported with its line in the whole text', () => {
    const err = parseError('kind: Function\n---\nkind: Function\nmeta: data: x\n')
    assert.deepEqual([err.line, err.column], [4, 7])
  })

  test('a duplicate key is an error, not a silent overwrite', () => {
    const err = parseError('metadata:\n  name: a\n  name: b\n')
    assert.deepEqual([err.line, err.column], [3, 3])
    assert.match(err.message, /unique/)
  })

  test('without a file name the position alone prefixes the message', () => {
    assert.match(parseError('a: [1\n').message, /^2:1: /)
  })
})

describe('bounds', () => {
  test('a text over 1 MiB is rejected before parsing', () => {
    const err = parseError(`a: "${'x'.repeat(MAX_MANIFEST_BYTES)}"`)
    assert.equal(err.message, 'manifest is larger than 1 MiB')
  })

  test('the 1 MiB bound counts bytes, not characters', () => {
    const err = parseError(`a: "${'é'.repeat(MAX_MANIFEST_BYTES / 2 + 1)}"`)
    assert.equal(err.message, 'manifest is larger than 1 MiB')
  })

  test('a text of just under 1 MiB is parsed', () => {
    assert.equal(parseManifests(`a: "${'x'.repeat(MAX_MANIFEST_BYTES - 10)}"`).length, 1)
  })

  test('deeply nested collections are rejected instead of exhausting the stack', () => {
    // Earlier parse errors change V8's state; without the depth bound, this once aborted the process.
    parseError('a: 1\na: 2\n')
    for (const text of ['['.repeat(400_000), `x: ${'- '.repeat(300_000)}y`, Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')]) {
      assert.match(parseError(text).message, /nested too deeply/)
    }
  })

  test('braces inside strings and block scalars do not count as nesting', () => {
    const code = `${'{'.repeat(500)}${'}'.repeat(500)}`
    assert.equal(parseManifests(`a: "${code}"\nb: |\n  ${code}\n`).length, 1)
  })

  test('an alias bomb is rejected', () => {
    const text = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]'
    ].join('\n')
    assert.match(parseError(text).message, /alias/i)
  })
})

describe('describeDocument', () => {
  test('names a document by its kind and name, for messages', () => {
    assert.equal(describeDocument({ kind: 'Function', metadata: { name: 'hello' } }), 'function/hello')
    assert.equal(describeDocument({ kind: 'RateLimitStrategy', metadata: { name: 'rl' } }), 'ratelimitstrategy/rl')
  })

  test('copes with documents that are missing parts or are not mappings', () => {
    assert.equal(describeDocument({ kind: 'Function' }), 'function/(unnamed)')
    assert.equal(describeDocument({ metadata: { name: 'x' } }), 'resource/x')
    assert.equal(describeDocument(['x']), 'resource/(unnamed)')
    assert.equal(describeDocument(null), 'resource/(unnamed)')
  })
})

describe('field positions', () => {
  // Two documents; the second one's bad fields sit on lines 17 to 22.
  const text = [
    'apiVersion: roost.dev/v1', //  1
    'kind: Function', //              2
    'metadata:', //                   3
    '  name: first', //               4
    'spec:', //                       5
    '  source: ./a.ts', //            6
    '---', //                         7
    '# the second one', //            8
    'apiVersion: roost.dev/v1', //  9
    'kind: Function', //             10
    'metadata:', //                  11
    '  name: second', //             12
    '  labels: { "app/x": y }', //   13
    'spec:', //                      14
    '  source: ./b.ts', //           15
    '  scale:', //                   16
    '    max: 0', //                 17
    '    scheduel: []', //           18
    '  traffic:', //                 19
    '    - { version: 1, percent: 50 }', // 20
    '    - version: 2', //           21
    '      percent: 70', //          22
    ''
  ].join('\n')
  const [, second] = parseManifests(text)

  test('a field is located at its key, in the whole text of a multi-document file', () => {
    assert.deepEqual(locateField(second, 'spec.scale.max'), { line: 17, column: 5 })
    assert.deepEqual(locateField(second, 'spec.scale.scheduel'), { line: 18, column: 5 })
    assert.deepEqual(locateField(second, 'spec.traffic[1].percent'), { line: 22, column: 7 })
    assert.deepEqual(locateField(second, 'spec.traffic[0].percent'), { line: 20, column: 21 })
    assert.deepEqual(locateField(second, 'metadata.labels["app/x"]'), { line: 13, column: 13 })
  })

  test('a missing field points at the nearest enclosing one, a document-wide problem at the document', () => {
    assert.deepEqual(locateField(second, 'spec.http.path'), { line: 14, column: 1 })
    assert.deepEqual(locateField(second, 'spec.traffic[5].percent'), { line: 19, column: 3 })
    assert.deepEqual(locateField(second, ''), { line: 9, column: 1 })
  })

  test('each problem validation reports is located where it is written', () => {
    let fields: string[] = []
    assert.throws(() => validateFunction(second.doc), (err) => {
      assert.ok(err instanceof ValidationError)
      fields = err.errors.map((e) => e.field)
      return true
    })
    assert.deepEqual(fields.map((field) => [field, locateField(second, field).line]), [['spec.scale.scheduel', 18], ['spec.scale.max', 17], ['spec.traffic', 19]])
  })
})
