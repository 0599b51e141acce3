import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { PlatformCallKey } from '../../src/governance/index.js'

test('a minted token is rc1.<namespace>.<name>.<base64url HMAC-SHA256 of "rc1\\0ns\\0name">', () => {
  const key = PlatformCallKey.generate()
  const token = key.mint('shop', 'checkout')
  const mac = createHmac('sha256', Buffer.from(key.bytes())).update('rc1\0shop\0checkout').digest('base64url')
  assert.equal(token, `rc1.shop.checkout.${mac}`)
})

test('a token verifies to the function it was minted for', () => {
  const key = PlatformCallKey.generate()
  assert.deepEqual(key.verify(key.mint('shop', 'checkout')), { namespace: 'shop', name: 'checkout', caller: 'fn:shop/checkout' })
})

test('the key crosses to another process as bytes and verifies the same tokens there', () => {
  const key = PlatformCallKey.generate()
  const there = PlatformCallKey.fromBytes(key.bytes())
  assert.equal(there.verify(key.mint('a', 'b'))?.caller, 'fn:a/b')
  assert.throws(() => PlatformCallKey.fromBytes(new Uint8Array(16)), RangeError)
})

test('a token of another platform run, or one whose names were changed, does not verify', () => {
  const key = PlatformCallKey.generate()
  const token = key.mint('shop', 'checkout')
  assert.equal(PlatformCallKey.generate().verify(token), undefined, 'another run\'s key')
  const mac = token.split('.')[3]
  assert.equal(key.verify(`rc1.other.checkout.${mac}`), undefined, 'another namespace, same MAC')
  assert.equal(key.verify(`rc1.shop.admin.${mac}`), undefined, 'another function, same MAC')
})

test('malformed tokens do not verify', () => {
  const key = PlatformCallKey.generate()
  const token = key.mint('shop', 'checkout')
  for (const bad of ['', 'rc1', 'rc1.shop.checkout', token.replace('rc1.', 'rc2.'), token.slice(0, -1), `${token}A`, token.replace('shop', 'Shop'), `rc1.sh.op.checkout.${token.split('.')[3]}`]) {
    assert.equal(key.verify(bad), undefined, bad)
  }
})

test('mint refuses names that are not DNS labels (they could not be split again)', () => {
  const key = PlatformCallKey.generate()
  assert.throws(() => key.mint('a.b', 'c'), RangeError)
  assert.throws(() => key.mint('a', ''), RangeError)
})

test('a verified token is remembered: the same frozen answer comes back', () => {
  const key = PlatformCallKey.generate()
  const token = key.mint('a', 'b')
  const first = key.verify(token)
  assert.equal(key.verify(token), first)
  assert.equal(Object.isFrozen(first), true)
})
