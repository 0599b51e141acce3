import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseJsonPath } from '../../src/cli/jsonpath.js'

const list = {
  kind: 'List',
  items: [
    { metadata: { name: 'a', labels: { app: 'web' } }, status: { latestVersion: 2, traffic: [{ version: 2, percent: 100 }] } },
    { metadata: { name: 'b', labels: {} }, status: { latestVersion: 1, traffic: [{ version: 1, percent: 90 }, { version: 2, percent: 10, tag: 'canary' }] } }
  ]
}

const render = (template: string, data: unknown = list): string => parseJsonPath(template).render(data)

test('a field path prints the value: strings bare, everything else as JSON', () => {
  assert.equal(render('{.kind}'), 'List')
  assert.equal(render('{.items[0].status.latestVersion}'), '2')
  assert.equal(render('{.items[0].metadata.labels}'), '{"app":"web"}')
  assert.equal(render('{$.items[1].metadata.name}'), 'b', 'a leading $ is the root')
})

test('[*] selects every element, and several results are joined by a space', () => {
  assert.equal(render('{.items[*].metadata.name}'), 'a b')
  assert.equal(render('{.items[*].status.traffic[*].version}'), '2 1 2')
})

test('negative indexes count from the end; an index past the end selects nothing', () => {
  assert.equal(render('{.items[-1].metadata.name}'), 'b')
  assert.equal(render('{.items[5].metadata.name}'), '')
})

test('text outside braces is kept, and string literals give newlines and tabs', () => {
  assert.equal(render('names: {.items[0].metadata.name}{"\\n"}'), 'names: a\n')
  assert.equal(render("{.items[0].metadata.name}{'\\t'}x"), 'a\tx')
})

test('{range} repeats its body for each element, with @ as the element', () => {
  assert.equal(render('{range .items[*]}{.metadata.name}={.status.latestVersion}{"\\n"}{end}'), 'a=2\nb=1\n')
  assert.equal(render('{range .items[*]}[{@.metadata.name}]{end}'), '[a][b]')
  assert.equal(render('{range .items}[{.metadata.name}]{end}'), '[a][b]', 'a range over the array itself walks its elements')
  assert.equal(render('{range .m[*]}<{@}>{end}', { m: [[1, 2], [3]] }), '<[1,2]><[3]>', 'elements that are arrays stay whole')
})

test("['key'] reads a key that is not a plain identifier", () => {
  assert.equal(render("{.items[0].metadata.labels['app']}"), 'web')
  assert.equal(render("{.m['a.b/c']}", { m: { 'a.b/c': 'x' } }), 'x')
})

test('filters keep the elements whose field equals, differs from, or has a value', () => {
  assert.equal(render('{.items[?(@.metadata.name=="b")].status.latestVersion}'), '1')
  assert.equal(render('{.items[?(@.status.latestVersion==2)].metadata.name}'), 'a')
  assert.equal(render('{.items[?(@.metadata.name!="b")].metadata.name}'), 'a')
  assert.equal(render('{.items[*].status.traffic[?(@.tag)].tag}'), 'canary')
})

test('.. finds a key at any depth, .* every value of an object', () => {
  assert.equal(render('{..tag}'), 'canary')
  assert.equal(render('{.items[0].metadata.labels.*}'), 'web')
})

test('a malformed template is a usage error with an example', () => {
  for (const bad of ['{.items', '{range .items[*]}{.x}', '{end}', '{items}', '{.items[?(x)]}', '{.a[1:2]}']) {
    assert.throws(() => parseJsonPath(bad), { code: 'ROOST_E_USAGE', hint: /jsonpath=/ }, bad)
  }
})
