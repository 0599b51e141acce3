import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { API_KEY_LENGTH, ApiKeyVerifier, apiKeyId, generateApiKey, hashApiKey, isApiKeyId } from '../../src/governance/index.js'

test('a generated key is rk_, 12 hex of id, "_" and 43 base64url characters of secret; its id is the first 15', () => {
  const { id, key, sha256 } = generateApiKey()
  assert.match(key, /^rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
  assert.equal(key.length, API_KEY_LENGTH)
  assert.equal(id, key.slice(0, 15))
  assert.equal(apiKeyId(key), id)
  assert.equal(isApiKeyId(id), true)
  assert.equal(sha256, createHash('sha256').update(key).digest('hex'))
  assert.equal(hashApiKey(key), sha256)
})

test('two generated keys share neither id nor secret', () => {
  const a = generateApiKey()
  const b = generateApiKey()
  assert.notEqual(a.id, b.id)
  assert.notEqual(a.key.slice(16), b.key.slice(16))
})

test('apiKeyId refuses anything that is not exactly of the key form', () => {
  const { key } = generateApiKey()
  for (const bad of ['', key.slice(0, -1), `${key}A`, key.replace('rk_', 'rx_'), `rk_${'G'.repeat(12)}${key.slice(15)}`, key.slice(0, 15) + '-' + key.slice(16), key.slice(0, 20) + '=' + key.slice(21), key.toUpperCase()]) {
    assert.equal(apiKeyId(bad), undefined, bad)
  }
  assert.equal(isApiKeyId('rk_0123456789ab'), true)
  assert.equal(isApiKeyId('rk_0123456789a'), false)
  assert.equal(isApiKeyId('tok_0123456789ab'), false)
})

test('a key is accepted by its hash and names its id; a key of another function, an altered one and garbage are refused', () => {
  const mine = generateApiKey()
  const other = generateApiKey()
  const verifier = new ApiKeyVerifier([{ id: mine.id, sha256: mine.sha256 }])
  assert.deepEqual(verifier.verify(mine.key, 0), { ok: true, id: mine.id })
  assert.deepEqual(verifier.verify(other.key, 0), { ok: false, reason: 'unknown' })
  const flipped = mine.key.slice(0, -1) + (mine.key.endsWith('A') ? 'B' : 'A')
  assert.deepEqual(verifier.verify(flipped, 0), { ok: false, reason: 'unknown' }, 'the right id with a wrong secret')
  assert.deepEqual(verifier.verify('hello', 0), { ok: false, reason: 'malformed' })
})

test('a key expires at its expiresAt exactly: accepted the millisecond before, refused from then on', () => {
  const { id, key, sha256 } = generateApiKey()
  const verifier = new ApiKeyVerifier([{ id, sha256, expiresAt: 10_000 }])
  assert.equal(verifier.verify(key, 9_999).ok, true)
  assert.deepEqual(verifier.verify(key, 10_000), { ok: false, reason: 'expired' })
  assert.deepEqual(verifier.verify(key, 50_000), { ok: false, reason: 'expired' })
})

test('a key without expiresAt never expires', () => {
  const { id, key, sha256 } = generateApiKey()
  assert.equal(new ApiKeyVerifier([{ id, sha256 }]).verify(key, Number.MAX_SAFE_INTEGER).ok, true)
})

test('a record whose hash is not a SHA-256 matches no key', () => {
  const { id, key } = generateApiKey()
  const verifier = new ApiKeyVerifier([{ id, sha256: 'abcd' }])
  assert.equal(verifier.size, 0)
  assert.deepEqual(verifier.verify(key, 0), { ok: false, reason: 'unknown' })
})

test('outcomes of an accepted key are one shared frozen object', () => {
  const { id, key, sha256 } = generateApiKey()
  const verifier = new ApiKeyVerifier([{ id, sha256 }])
  const first = verifier.verify(key, 0)
  assert.equal(verifier.verify(key, 1), first)
  assert.equal(Object.isFrozen(first), true)
})
