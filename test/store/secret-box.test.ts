import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { SecretBox, SEALED_PREFIX } from '../../src/store/secret-box.js'

test('a sealed value opens with its key and context only, and each sealing is new', () => {
  const box = new SecretBox(randomBytes(32))
  const one = box.seal('value', 'place-a')
  const two = box.seal('value', 'place-a')
  assert.ok(one.startsWith(SEALED_PREFIX))
  assert.notEqual(one, two, 'a fresh IV per value')
  assert.equal(box.open(one, 'place-a'), 'value')
  assert.equal(box.open(one, 'place-a'), 'value', 'again, from the cache')
  assert.equal(box.open(one, 'place-b'), undefined, 'another context')
  assert.equal(new SecretBox(randomBytes(32)).open(one, 'place-a'), undefined, 'another key')
  assert.equal(box.open(box.seal('', 'x'), 'x'), '')
  assert.equal(box.open(box.seal('ünïcødé ✓', 'x'), 'x'), 'ünïcødé ✓')
})

test('an altered, cut or foreign text never opens to anything', () => {
  const box = new SecretBox(randomBytes(32))
  const sealed = box.seal('a longer value to alter', 'ctx')
  const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url')
  for (const index of [0, 12, bytes.length - 1]) {
    const altered = Buffer.from(bytes)
    altered[index] ^= 1
    assert.equal(box.open(SEALED_PREFIX + altered.toString('base64url'), 'ctx'), undefined, `byte ${index} altered`)
  }
  assert.equal(box.open(SEALED_PREFIX + bytes.subarray(0, 20).toString('base64url'), 'ctx'), undefined)
  assert.equal(box.open('v2.' + bytes.toString('base64url'), 'ctx'), undefined, 'an unknown scheme')
  assert.equal(box.open('plain text', 'ctx'), undefined)
})

test('a key must be 256 bits', () => {
  assert.throws(() => new SecretBox(randomBytes(16)), RangeError)
})
