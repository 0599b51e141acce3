import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cookieValue } from '../../src/gateway/cookie-value.js'

// A cookie read from a Cookie header: parts split on ;, names and values trimmed, the first of a name winning.

test('the first value of a cookie, trimmed; none without the header or the name', () => {
  assert.equal(cookieValue('lane=canary; other=1; lane=blue', 'lane'), 'canary')
  assert.equal(cookieValue('other=1;lane=blue', 'lane'), 'blue')
  assert.equal(cookieValue('  lane  =  canary  ', 'lane'), 'canary')
  assert.equal(cookieValue('other=1', 'lane'), undefined)
  assert.equal(cookieValue(undefined, 'lane'), undefined)
  assert.equal(cookieValue('', 'lane'), undefined)
  assert.equal(cookieValue('lanes=1; lan=2', 'lane'), undefined)
})

test('a part without =, or starting with it, is no cookie; = inside a value stays', () => {
  assert.equal(cookieValue('lane; lane=x', 'lane'), 'x')
  assert.equal(cookieValue('=lane; lane=y', 'lane'), 'y')
  assert.equal(cookieValue('lane=a=b', 'lane'), 'a=b')
  assert.equal(cookieValue('lane=', 'lane'), '')
})

test('trimming is String.prototype.trim\'s: tabs, no-break spaces and line separators go too', () => {
  assert.equal(cookieValue('\tlane\u00a0=\u2028v\ufeff', 'lane'), 'v')
  assert.equal(cookieValue('x\u200blane=v', 'lane'), undefined, 'a zero-width space is not whitespace')
})

/** The reference: every cookie into a map, the first of a name kept. */
function parsed (header: string, name: string): string | undefined {
  const cookies = new Map<string, string>()
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const key = part.slice(0, eq).trim()
    if (!cookies.has(key)) cookies.set(key, part.slice(eq + 1).trim())
  }
  return cookies.get(name)
}

test('agrees with parsing every cookie into a map, on every short header over a small alphabet', () => {
  const alphabet = ['a', 'b', '=', ';', ' ', '\t', '\u00a0']
  const names = ['a', 'b', 'ab', '', 'a b']
  let checked = 0
  const visit = (header: string, depth: number): void => {
    for (const name of names) {
      assert.equal(cookieValue(header, name), parsed(header, name), `${JSON.stringify(header)} for ${JSON.stringify(name)}`)
      checked++
    }
    if (depth === 0) return
    for (const c of alphabet) visit(header + c, depth - 1)
  }
  visit('', 5)
  assert.ok(checked > 50_000)
})
