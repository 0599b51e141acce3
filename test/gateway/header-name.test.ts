import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isHeaderName } from '../../src/gateway/header-name.js'

// A header name compared as HTTP compares it: ASCII letters in any case, every other character exactly.

test('a name matches its lower-case form in any letter case', () => {
  assert.equal(isHeaderName('x-tenant', 'x-tenant'), true)
  assert.equal(isHeaderName('X-Tenant', 'x-tenant'), true)
  assert.equal(isHeaderName('X-TENANT', 'x-tenant'), true)
  assert.equal(isHeaderName('x-TeNaNt', 'x-tenant'), true)
  assert.equal(isHeaderName('', ''), true)
})

test('a different name, or one of another length, does not match', () => {
  assert.equal(isHeaderName('x-tenants', 'x-tenant'), false)
  assert.equal(isHeaderName('x-tenan', 'x-tenant'), false)
  assert.equal(isHeaderName('x-tenanu', 'x-tenant'), false)
  assert.equal(isHeaderName('y-tenant', 'x-tenant'), false)
  assert.equal(isHeaderName('authorization', 'x-tenant'), false)
})

test('only letters fold: a character whose code differs by the case bit from a non-letter does not match', () => {
  // '-' is 0x2d, CR is 0x0d; '0' is 0x30, DLE is 0x10; '_' is 0x5f, DEL is 0x7f; '@' is 0x40, '`' is 0x60.
  assert.equal(isHeaderName('x\rtenant', 'x-tenant'), false)
  assert.equal(isHeaderName('k\u0010', 'k0'), false)
  assert.equal(isHeaderName('a\u007fb', 'a_b'), false)
  assert.equal(isHeaderName('a@b', 'a`b'), false)
  assert.equal(isHeaderName('a`b', 'a@b'), false, 'the lower-case form is given; a name is never folded upwards')
})

test('letters fold one way only: the lower-case form must be given lower case', () => {
  assert.equal(isHeaderName('x-tenant', 'X-Tenant'), false)
})

test('non-ASCII characters never match an ASCII letter', () => {
  // A code above 127 stays above it with the case bit set; the Kelvin sign (U+212A) lower-cases to k in Unicode, not in HTTP.
  assert.equal(isHeaderName('\u212a', 'k'), false)
  assert.equal(isHeaderName('\u0158', 'x'), false)
  assert.equal(isHeaderName('x-t\u00e9nant', 'x-tenant'), false)
})
