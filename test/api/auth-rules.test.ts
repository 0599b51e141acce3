// spec.http.auth as the platform validates and normalizes it.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { validateFunction } from '../../src/api/index.js'
import { ValidationError } from '../../src/errors/index.js'

type Doc = Record<string, unknown>

const manifest = (auth: unknown): Doc => ({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: { source: './f.ts', http: { auth } } })

function reported (auth: unknown): string[] {
  try {
    validateFunction(manifest(auth))
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err))
    return err.errors.map((p) => `${p.field}: ${p.message}`)
  }
  assert.fail(`expected ${JSON.stringify(auth)} to be refused`)
}

const authOf = (auth: unknown): unknown => validateFunction(manifest(auth)).spec.http.auth

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string
const ecJwk = ec.publicKey.export({ format: 'jwk' }) as Doc

describe('modes without settings', () => {
  test('none, key and private, as a name or as { mode }, normalize to the name', () => {
    for (const mode of ['none', 'key', 'private']) {
      assert.equal(authOf(mode), mode)
      assert.equal(authOf({ mode }), mode)
    }
  })

  test('absent auth is none', () => {
    assert.equal(validateFunction({ ...manifest('none'), spec: { source: './f.ts' } }).spec.http.auth, 'none')
  })

  test('an unknown mode names the modes', () => {
    assert.deepEqual(reported('basic'), ['spec.http.auth: expected "none", "key", "hmac", "jwt" or "private" or a mapping with "mode", got "basic"'])
    assert.deepEqual(reported({ mode: 'basic' }), ['spec.http.auth.mode: expected "none", "key", "hmac", "jwt" or "private", got "basic"'])
  })

  test('a misspelt field gets a suggestion', () => {
    assert.deepEqual(reported({ mode: 'hmac', secretref: { name: 'hooks' } }), [
      'spec.http.auth.secretref: unknown field; did you mean "secretRef"?',
      'spec.http.auth.secretRef: required for mode hmac: the Secret whose whsec_… values sign the requests'
    ])
  })

  test('settings of another mode are refused, naming the mode they belong to', () => {
    assert.deepEqual(reported({ mode: 'key', tolerance: '5m', issuer: 'x' }), [
      'spec.http.auth.tolerance: only for mode hmac; this auth is mode key',
      'spec.http.auth.issuer: only for mode jwt; this auth is mode key'
    ])
    assert.deepEqual(reported({ mode: 'hmac', secretRef: { name: 'hooks' }, audience: 'a' }), ['spec.http.auth.audience: only for mode jwt; this auth is mode hmac'])
  })
})

describe('hmac', () => {
  test('needs a secretRef: the bare name says how to write it', () => {
    assert.deepEqual(reported('hmac'), ['spec.http.auth: "hmac" needs its signing secrets: write auth: { mode: hmac, secretRef: { name: SECRET } } (a Secret of whsec_… values)'])
    assert.deepEqual(reported({ mode: 'hmac' }), ['spec.http.auth.secretRef: required for mode hmac: the Secret whose whsec_… values sign the requests'])
  })

  test('normalizes with the tolerance of 5m and a replay cache of 50000 by default', () => {
    assert.deepEqual(authOf({ mode: 'hmac', secretRef: { name: 'hooks' } }), { mode: 'hmac', secretRef: { name: 'hooks' }, tolerance: '5m', replayCacheSize: 50000 })
    assert.deepEqual(authOf({ mode: 'hmac', secretRef: { name: 'hooks', key: 'CURRENT' }, tolerance: '30s', replayCacheSize: 1000 }), { mode: 'hmac', secretRef: { name: 'hooks', key: 'CURRENT' }, tolerance: '30s', replayCacheSize: 1000 })
  })

  test('a signing secret is never written inline: secretRef takes a name and a key only', () => {
    assert.deepEqual(reported({ mode: 'hmac', secretRef: { name: 'hooks', value: 'whsec_abc' } }), ['spec.http.auth.secretRef.value: unknown field'])
    assert.deepEqual(reported({ mode: 'hmac', secret: 'whsec_abc', secretRef: { name: 'hooks' } }), ['spec.http.auth.secret: unknown field'])
  })

  test('the tolerance is from 1s to 1h and the replay cache from 100 to 1000000', () => {
    assert.deepEqual(reported({ mode: 'hmac', secretRef: { name: 'h' }, tolerance: '2h' }), ['spec.http.auth.tolerance: expected a duration from 1s to 1h, got "2h"'])
    assert.deepEqual(reported({ mode: 'hmac', secretRef: { name: 'h' }, tolerance: '500ms' }), ['spec.http.auth.tolerance: expected a duration from 1s to 1h, got "500ms"'])
    assert.deepEqual(reported({ mode: 'hmac', secretRef: { name: 'h' }, replayCacheSize: 10 }), ['spec.http.auth.replayCacheSize: expected an integer from 100 to 1000000, got 10'])
    assert.equal((authOf({ mode: 'hmac', secretRef: { name: 'h' }, tolerance: '1h' }) as Doc).tolerance, '1h')
  })
})

describe('jwt', () => {
  test('needs keys, jwks or keysFile', () => {
    assert.match(reported('jwt')[0] as string, /^spec\.http\.auth: "jwt" needs the keys that verify tokens/)
    assert.deepEqual(reported({ mode: 'jwt', issuer: 'https://issuer.test' }), ['spec.http.auth: mode jwt needs the keys that verify tokens: keys, jwks or keysFile'])
  })

  test('normalizes with a clock skew of 30s by default, keeping what was written', () => {
    assert.deepEqual(authOf({ mode: 'jwt', issuer: 'https://issuer.test', audience: 'orders', keys: [{ kid: 'k1', pem: ecPem }] }), {
      mode: 'jwt', clockSkew: '30s', issuer: 'https://issuer.test', audience: 'orders', keys: [{ kid: 'k1', pem: ecPem }]
    })
    assert.deepEqual(authOf({ mode: 'jwt', clockSkew: '0s', jwks: { keys: [ecJwk] } }), { mode: 'jwt', clockSkew: '0s', jwks: { keys: [ecJwk] } })
    assert.deepEqual(authOf({ mode: 'jwt', keysFile: './jwks.json' }), { mode: 'jwt', clockSkew: '30s', keysFile: './jwks.json' })
  })

  test('the clock skew is at most 10m', () => {
    assert.deepEqual(reported({ mode: 'jwt', keysFile: 'k.pem', clockSkew: '11m' }), ['spec.http.auth.clockSkew: expected a duration from 0s to 10m, got "11m"'])
  })

  test('a key is exactly one of pem, jwk and secretRef', () => {
    assert.deepEqual(reported({ mode: 'jwt', keys: [{ kid: 'k' }] }), ['spec.http.auth.keys[0]: give the key: pem, jwk or secretRef'])
    assert.deepEqual(reported({ mode: 'jwt', keys: [{ pem: ecPem, jwk: ecJwk }] }), ['spec.http.auth.keys[0]: give one of pem, jwk and secretRef, not pem and jwk'])
  })

  test('inline keys must be public keys that fit their alg', () => {
    assert.deepEqual(reported({ mode: 'jwt', keys: [{ pem: 'hello' }] }), ['spec.http.auth.keys[0].pem: expected a public key in PEM, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----'])
    assert.match(reported({ mode: 'jwt', keys: [{ pem: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }] })[0] as string, /^spec\.http\.auth\.keys\[0\]\.pem: this is a private key/)
    assert.match(reported({ mode: 'jwt', keys: [{ jwk: ec.privateKey.export({ format: 'jwk' }) }] })[0] as string, /^spec\.http\.auth\.keys\[0\]\.jwk: this JWK holds a private key/)
    assert.deepEqual(reported({ mode: 'jwt', keys: [{ alg: 'RS256', pem: ecPem }] }), ['spec.http.auth.keys[0].pem: a EC prime256v1 key signs ES256, not RS256'])
    assert.equal(authOf({ mode: 'jwt', keys: [{ alg: 'RS256', pem: rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string }] }) !== undefined, true)
  })

  test('an HS256 secret comes from a Secret, never inline', () => {
    assert.deepEqual(reported({ mode: 'jwt', keys: [{ alg: 'HS256', pem: ecPem }] }), ['spec.http.auth.keys[0].alg: an HS256 key is a secret: put it in a Secret and refer to it with secretRef, never in the manifest'])
    assert.deepEqual(reported({ mode: 'jwt', keys: [{ alg: 'RS256', secretRef: { name: 's', key: 'K' } }] }), ['spec.http.auth.keys[0].alg: a secretRef is an HS256 secret; RS256 takes a public key as pem or jwk'])
    assert.match(reported({ mode: 'jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })[0] as string, /^spec\.http\.auth\.jwks\.keys\[0\]: a symmetric JWK \(kty oct\) is a secret/)
    assert.deepEqual(authOf({ mode: 'jwt', keys: [{ kid: 'h', secretRef: { name: 's', key: 'K' } }] }), { mode: 'jwt', clockSkew: '30s', keys: [{ kid: 'h', secretRef: { name: 's', key: 'K' } }] })
  })

  test('every bad key is reported at once', () => {
    assert.deepEqual(reported({ mode: 'jwt', keys: [{ pem: 'a' }, { jwk: ecJwk }, { pem: 'b' }] }).map((line) => line.split(':')[0]), ['spec.http.auth.keys[0].pem', 'spec.http.auth.keys[2].pem'])
  })
})
