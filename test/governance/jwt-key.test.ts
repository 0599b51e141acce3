import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readJwk, readJwtKey, readPem, type KeyReading } from '../../src/governance/index.js'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed = generateKeyPairSync('ed25519')

const pem = (pair: { publicKey: KeyObject }): string => pair.publicKey.export({ type: 'spki', format: 'pem' }) as string

function alg (reading: KeyReading): string {
  return reading.ok ? reading.alg : `refused: ${reading.message}`
}

test('a public key\'s type implies its alg: RSA RS256, P-256 ES256, Ed25519 EdDSA', () => {
  assert.equal(alg(readPem(pem(rsa))), 'RS256')
  assert.equal(alg(readPem(pem(ec))), 'ES256')
  assert.equal(alg(readPem(pem(ed))), 'EdDSA')
  assert.equal(alg(readJwk(ec.publicKey.export({ format: 'jwk' }))), 'ES256')
  assert.equal(alg(readPem(rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string)), 'RS256', 'PKCS#1 too')
})

test('an alg that does not fit the key is refused', () => {
  assert.match(alg(readPem(pem(ec), 'RS256')), /refused: a EC prime256v1 key signs ES256, not RS256/)
  assert.match(alg(readJwtKey({ alg: 'EdDSA', key: pem(rsa) })), /signs RS256, not EdDSA/)
  assert.match(alg(readJwk({ ...ed.publicKey.export({ format: 'jwk' }), alg: 'ES256' })), /refused/)
})

test('private keys are refused, in PEM and in JWK', () => {
  assert.match(alg(readPem(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)), /this is a private key/)
  assert.match(alg(readPem(rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string)), /this is a private key/)
  assert.match(alg(readJwk(ed.privateKey.export({ format: 'jwk' }))), /holds a private key/)
})

test('weak or unsupported keys are refused: RSA under 2048 bits, other curves, symmetric JWKs, unsupported algs, encryption keys', () => {
  assert.match(alg(readPem(pem(generateKeyPairSync('rsa', { modulusLength: 1024 })))), /at least 2048 bits; this one has 1024/)
  assert.match(alg(readPem(pem(generateKeyPairSync('ec', { namedCurve: 'P-384' })))), /ES256 takes a P-256 key; this one is on secp384r1/)
  assert.match(alg(readJwk({ kty: 'oct', k: 'c2VjcmV0' })), /symmetric JWK .* put it in a Secret/)
  assert.match(alg(readJwk({ ...rsa.publicKey.export({ format: 'jwk' }), alg: 'RS512' })), /alg "RS512" is not supported/)
  assert.match(alg(readJwk({ ...rsa.publicKey.export({ format: 'jwk' }), use: 'enc' })), /not for signatures/)
})

test('text that is neither PEM nor JWK JSON is refused with what was expected', () => {
  assert.match(alg(readJwtKey({ alg: 'RS256', key: 'hello' })), /expected PEM .* or a JWK as JSON/)
  assert.match(alg(readPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')), /not a public key in PEM/)
})

test('an HS256 secret is at least 32 bytes', () => {
  assert.equal(alg(readJwtKey({ alg: 'HS256', key: 'x'.repeat(32) })), 'HS256')
  assert.match(alg(readJwtKey({ alg: 'HS256', key: 'x'.repeat(31) })), /at least 32 bytes .* this one has 31/)
})

test('a JWK\'s kid comes with the reading, and a JwtKey\'s kid wins', () => {
  const jwk = { ...ed.publicKey.export({ format: 'jwk' }), kid: 'from-jwk' }
  const reading = readJwk(jwk)
  assert.equal(reading.ok && reading.kid, 'from-jwk')
  const named = readJwtKey({ alg: 'EdDSA', kid: 'from-entry', key: JSON.stringify(jwk) })
  assert.equal(named.ok && named.kid, 'from-entry')
})
