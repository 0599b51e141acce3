import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { functionJsonSchema, functionJsonSchemaText, rulesJsonSchemaText } from '../../src/api/schema-document.js'
import { parseManifests } from '../../src/api/manifest.js'
import { designExample } from '../fixtures/design-example.js'
import { issueExample } from '../fixtures/issue-11-example.js'

// Compiled to dist/test/api/, three folders below the repository root.
const committedPath = new URL('../../../schema/function.schema.json', import.meta.url)


type Node = Record<string, unknown>

function exampleDoc (): Node {
  return parseManifests(designExample)[0]?.doc as Node
}

function compileCommitted () {
  return new Ajv2020({ allErrors: true }).compile(JSON.parse(readFileSync(committedPath, 'utf8')) as object)
}

// Every schema below `node` that is the value of a property, with its path.
function* properties (node: Node, path = ''): Generator<[string, Node]> {
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    yield [`${path}.${key}`, child]
    yield * properties(child, `${path}.${key}`)
  }
  for (const branch of (node.anyOf ?? []) as Node[]) yield * properties(branch, path)
  if (typeof node.items === 'object') yield * properties(node.items as Node, `${path}[]`)
  for (const value of Object.values((node.patternProperties ?? {}) as Record<string, Node>)) yield * properties(value, `${path}.*`)
}

test('the committed schema/function.schema.json is what the code generates (run `npm run schema` after a change)', () => {
  assert.equal(readFileSync(committedPath, 'utf8'), functionJsonSchemaText())
})

test('the schema document is a draft 2020-12 schema with an id, a title and a description', () => {
  const schema = functionJsonSchema() as Node
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
  assert.equal(schema.$id, 'https://roost.dev/schemas/function.json')
  assert.equal(typeof schema.title, 'string')
  assert.equal(typeof schema.description, 'string')
})

test('the example of DESIGN.md validates under a plain Ajv 2020 compile of the file', () => {
  const validate = compileCommitted()
  assert.equal(validate(exampleDoc()), true, JSON.stringify(validate.errors))
})

test('editors flag a typo, in triggers too, and accept the triggers of DESIGN.md', () => {
  const validate = compileCommitted()
  const typo = exampleDoc()
  ;(typo.spec as Node).timout = '1s'
  assert.equal(validate(typo), false)
  const withTriggers = exampleDoc()
  ;(withTriggers.spec as Node).triggers = [{ cron: { schedule: '*/5 * * * *' } }, { queue: { name: 'orders', batch: 10, maxAttempts: 5 } }]
  assert.equal(validate(withTriggers), true, JSON.stringify(validate.errors))
  ;(withTriggers.spec as Node).triggers = [{ queue: { name: 'orders', bacth: 10 } }]
  assert.equal(validate(withTriggers), false)
})

test('every property has a description, so editors can show help for it', () => {
  for (const [path, schema] of properties(functionJsonSchema() as Node)) {
    assert.equal(typeof schema.description, 'string', `${path} has no description`)
  }
})

test('every object with named properties is closed, so typos are reported', () => {
  const schema = functionJsonSchema() as Node
  const objects = [schema, ...[...properties(schema)].map(([, s]) => s), ...[...properties(schema)].flatMap(([, s]) => (s.anyOf ?? []) as Node[])]
  for (const node of objects) {
    if (node.properties !== undefined) assert.equal(node.additionalProperties, false)
  }
})

test('the document shares nothing with the live schema: changing it changes no later copy', () => {
  const first = functionJsonSchema() as Node
  first.title = 'changed'
  assert.notEqual((functionJsonSchema() as Node).title, 'changed')
})

const rulesPath = new URL('../../../schema/opensergo-rules.schema.json', import.meta.url)

test('the committed schema/opensergo-rules.schema.json is what the code generates (run `npm run schema` after a change)', () => {
  assert.equal(readFileSync(rulesPath, 'utf8'), rulesJsonSchemaText())
})

test('the issue example validates under a plain Ajv 2020 compile of the rules schema, and a typo of it does not', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(rulesPath, 'utf8')) as object)
  const documents = parseManifests(issueExample).map((d) => d.doc as Node)
  for (const doc of documents) assert.equal(validate(doc), true, JSON.stringify(validate.errors))
  const typo = structuredClone(documents[0]) as Node
  ;(typo.spec as Node).treshold = 10
  assert.equal(validate(typo), false)
})

test('spec.governance is in the Function schema, described and closed like the rest', () => {
  const spec = (functionJsonSchema() as Node & { properties: { spec: { properties: Record<string, Node> } } }).properties.spec.properties
  assert.equal(typeof spec.governance?.description, 'string')
  assert.equal(spec.governance?.additionalProperties, false)
})
