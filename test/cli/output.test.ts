import { test } from 'node:test'
import assert from 'node:assert/strict'
import { age, formatTable, getFormat, outputFormat } from '../../src/cli/output.js'

test('tables pad each column to its widest cell, as kubectl prints them', () => {
  assert.equal(formatTable(['NAME', 'AGE'], [['hello', '3s'], ['a', '10m']]), 'NAME    AGE\nhello   3s\na       10m\n')
})

test('ages read like kubectl: seconds, then minutes, hours, days', () => {
  const now = Date.parse('2026-01-10T00:00:00Z')
  assert.equal(age(now - 5_000, now), '5s')
  assert.equal(age(now - 119_000, now), '119s')
  assert.equal(age(now - 30 * 60_000, now), '30m')
  assert.equal(age(now - 5 * 3600_000, now), '5h')
  assert.equal(age(now - 3 * 86400_000, now), '3d')
  assert.equal(age(now + 5_000, now), '0s', 'a clock a little ahead never shows a negative age')
})

test('-o takes json and yaml; anything else is a usage error with a hint', () => {
  assert.equal(outputFormat(undefined), 'table')
  assert.equal(outputFormat('json'), 'json')
  assert.equal(outputFormat('yaml'), 'yaml')
  assert.throws(() => outputFormat('xml'), { code: 'ROOST_E_USAGE', hint: /-o json/ })
})

test('get -o takes wide, name, json, yaml and jsonpath=TEMPLATE, as kubectl does', () => {
  assert.equal(getFormat(undefined).kind, 'table')
  for (const kind of ['wide', 'name', 'json', 'yaml'] as const) assert.equal(getFormat(kind).kind, kind)
  const jsonpath = getFormat('jsonpath={.items[*].metadata.name}')
  assert.equal(jsonpath.kind, 'jsonpath')
  if (jsonpath.kind === 'jsonpath') assert.equal(jsonpath.template.render({ items: [{ metadata: { name: 'a' } }] }), 'a')
  assert.throws(() => getFormat('jsonpath='), { code: 'ROOST_E_USAGE' })
  assert.throws(() => getFormat('xml'), { code: 'ROOST_E_USAGE', hint: /jsonpath=TEMPLATE/ })
})
