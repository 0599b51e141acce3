import { test } from 'node:test'
import assert from 'node:assert/strict'
import { queryValue } from '../../src/gateway/query-value.js'

// A query parameter read as URLSearchParams.get reads it: the first pair of the name, decoded.

test('the first value of a name; none without a query or the name', () => {
  assert.equal(queryValue('/p?tenant=a&x=1&tenant=b', 'tenant'), 'a')
  assert.equal(queryValue('/p?x=1&tenant=b', 'tenant'), 'b')
  assert.equal(queryValue('/p?x=1', 'tenant'), undefined)
  assert.equal(queryValue('/p', 'tenant'), undefined)
  assert.equal(queryValue('/p?', 'tenant'), undefined)
  assert.equal(queryValue('/p?tenants=a&tenan=b', 'tenant'), undefined, 'a longer or shorter name is another name')
})

test('a name without = has the empty value; empty pairs are skipped; = inside a value stays', () => {
  assert.equal(queryValue('/p?tenant', 'tenant'), '')
  assert.equal(queryValue('/p?tenant=', 'tenant'), '')
  assert.equal(queryValue('/p?&&tenant=a&&', 'tenant'), 'a')
  assert.equal(queryValue('/p?tenant=a=b', 'tenant'), 'a=b')
  assert.equal(queryValue('/p?=a', ''), 'a')
  assert.equal(queryValue('/p??tenant=a', 'tenant'), 'a', 'one ? right after the first is dropped, as URLSearchParams drops a leading one')
  assert.equal(queryValue('/p???tenant=a', '?tenant'), 'a')
})

test('escapes and + decode, in the value and in the name', () => {
  assert.equal(queryValue('/p?tenant=a+b%20c', 'tenant'), 'a b c')
  assert.equal(queryValue('/p?t%65nant=x', 'tenant'), 'x', 'an escaped name that decodes to the name is the name')
  assert.equal(queryValue('/p?my+key=1', 'my key'), '1')
  assert.equal(queryValue('/p?tenant=%C3%A9', 'tenant'), 'é')
  assert.equal(queryValue('/p?tenant=%zz', 'tenant'), '%zz', 'a bad escape stays as written')
  assert.equal(queryValue('/p?tenant=é', 'tenant'), 'é')
})

test('agrees with URLSearchParams on every short query over a small alphabet', () => {
  const alphabet = ['a', 'b', '=', '&', '%', '2', '0', '+', '?', 'é', '#', ' ']
  const names = ['a', 'b', 'ab', '', 'a b', '?', 'é', 'a=']
  let checked = 0
  const visit = (query: string, depth: number): void => {
    for (const name of names) {
      const expected = new URLSearchParams(query).get(name) ?? undefined
      assert.equal(queryValue(`/p?${query}`, name), expected, `?${query} for ${JSON.stringify(name)}`)
      checked++
    }
    if (depth === 0) return
    for (const c of alphabet) visit(query + c, depth - 1)
  }
  visit('', 4)
  assert.ok(checked > 100_000)
})
