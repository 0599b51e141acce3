import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { JwtVerifier, type JwtAlg, type JwtKey, type JwtOutcome } from '../../src/governance/index.js'

// Tokens are signed here with node:crypto directly, as an issuer would, so the
// verifier is checked against the JWS encoding and not against itself.

const NOW = 1_700_000_000_000
const SECONDS = NOW / 1000
const HS_SECRET = 'an HS256 secret of at least thirty-two bytes'

function b64url (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function signJwt (header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject | string): string {
  const input = `${b64url(header)}.${b64url(claims)}`
  const data = Buffer.from(input)
  let signature: Buffer
  switch (header.alg) {
    case 'HS256': signature = createHmac('sha256', key as string).update(data).digest(); break
    case 'RS256': signature = sign('sha256', data, key as KeyObject); break
    case 'ES256': signature = sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }); break
    case 'EdDSA': signature = sign(null, data, key as KeyObject); break
    default: signature = Buffer.from('not a signature')
  }
  return `${input}.${signature.toString('base64url')}`
}

const pairs = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: generateKeyPairSync('ed25519')
}

function publicPem (alg: keyof typeof pairs): string {
  return pairs[alg].publicKey.export({ type: 'spki', format: 'pem' }) as string
}

function publicJwk (alg: keyof typeof pairs): string {
  return JSON.stringify(pairs[alg].publicKey.export({ format: 'jwk' }))
}

function signingKey (alg: JwtAlg): KeyObject | string {
  return alg === 'HS256' ? HS_SECRET : pairs[alg].privateKey
}

function keyOf (alg: JwtAlg, format: 'pem' | 'jwk' = 'pem', kid?: string): JwtKey {
  const key = alg === 'HS256' ? HS_SECRET : format === 'pem' ? publicPem(alg) : publicJwk(alg)
  return kid === undefined ? { alg, key } : { alg, key, kid }
}

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ sub: 'alice', iss: 'https://issuer.test', aud: 'orders', exp: SECONDS + 60, ...extra })

function verifier (keys: JwtKey[], options: { issuer?: string, audience?: string, clockSkewMs?: number } = {}): JwtVerifier {
  return new JwtVerifier({ keys, clockSkewMs: options.clockSkewMs ?? 0, issuer: options.issuer, audience: options.audience })
}

function reason (outcome: JwtOutcome): string {
  return outcome.ok ? `ok:${outcome.subject}` : outcome.reason
}

describe('each algorithm verifies tokens signed with its key, from PEM and from JWK', () => {
  for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as const) {
    test(alg, () => {
      const token = signJwt({ alg, typ: 'JWT' }, claims(), signingKey(alg))
      assert.deepEqual(verifier([keyOf(alg)]).verify(token, NOW), { ok: true, subject: 'alice' })
      if (alg !== 'HS256') assert.deepEqual(verifier([keyOf(alg, 'jwk')]).verify(token, NOW), { ok: true, subject: 'alice' })
    })
  }
})

test('a token signed by another key of the same alg is refused (bad-signature)', () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const token = signJwt({ alg: 'ES256' }, claims(), other.privateKey)
  assert.equal(reason(verifier([keyOf('ES256')]).verify(token, NOW)), 'bad-signature')
  const hs = signJwt({ alg: 'HS256' }, claims(), 'another secret that is long enough, too')
  assert.equal(reason(verifier([keyOf('HS256')]).verify(hs, NOW)), 'bad-signature')
})

test('a tampered payload does not verify', () => {
  const token = signJwt({ alg: 'RS256' }, claims(), signingKey('RS256'))
  const [header, , signature] = token.split('.')
  const forged = `${header}.${b64url(claims({ sub: 'mallory' }))}.${signature}`
  assert.equal(reason(verifier([keyOf('RS256')]).verify(forged, NOW)), 'bad-signature')
})

test('alg none is refused, even with no signature at all', () => {
  const unsigned = `${b64url({ alg: 'none' })}.${b64url(claims())}.`
  const withJunk = `${b64url({ alg: 'none' })}.${b64url(claims())}.AAAA`
  const v = verifier([keyOf('HS256'), keyOf('RS256')])
  assert.equal(reason(v.verify(unsigned, NOW)), 'malformed')
  assert.equal(reason(v.verify(withJunk, NOW)), 'unsupported-alg')
})

test('an RS256 public key is never used as an HS256 secret (algorithm confusion)', () => {
  const pem = publicPem('RS256')
  const confused = signJwt({ alg: 'HS256' }, claims(), pem)
  assert.equal(reason(verifier([keyOf('RS256')]).verify(confused, NOW)), 'no-key')
})

test('a token of an alg the function has no key for is refused (no-key), naming what it takes', () => {
  const outcome = verifier([keyOf('ES256')]).verify(signJwt({ alg: 'EdDSA' }, claims(), signingKey('EdDSA')), NOW)
  assert.equal(reason(outcome), 'no-key')
  assert.match(outcome.ok ? '' : outcome.detail, /takes no "EdDSA" tokens; it has keys for ES256/)
  assert.equal(reason(verifier([keyOf('HS256')]).verify(signJwt({ alg: 'RS512' }, claims(), 'x'), NOW)), 'no-key')
})

test('kid: a token with a kid is checked with that key (or a key without kid), never with keys of another kid', () => {
  const second = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const keys: JwtKey[] = [
    keyOf('ES256', 'pem', 'k1'),
    { alg: 'ES256', kid: 'k2', key: second.publicKey.export({ type: 'spki', format: 'pem' }) as string }
  ]
  const v = verifier(keys)
  assert.equal(reason(v.verify(signJwt({ alg: 'ES256', kid: 'k2' }, claims(), second.privateKey), NOW)), 'ok:alice')
  assert.equal(reason(v.verify(signJwt({ alg: 'ES256', kid: 'k1' }, claims(), signingKey('ES256')), NOW)), 'ok:alice')
  assert.equal(reason(v.verify(signJwt({ alg: 'ES256', kid: 'k1' }, claims(), second.privateKey), NOW)), 'bad-signature', 'k2\'s signature under kid k1')
  const unknownKid = v.verify(signJwt({ alg: 'ES256', kid: 'k9' }, claims(), second.privateKey), NOW)
  assert.equal(reason(unknownKid), 'no-key')
  assert.match(unknownKid.ok ? '' : unknownKid.detail, /no key of this function has kid "k9"/)
  assert.equal(reason(v.verify(signJwt({ alg: 'ES256' }, claims(), second.privateKey), NOW)), 'ok:alice', 'without kid every key of the alg is tried')
  const kidless = verifier([keyOf('ES256')])
  assert.equal(reason(kidless.verify(signJwt({ alg: 'ES256', kid: 'anything' }, claims(), signingKey('ES256')), NOW)), 'ok:alice')
})

test('a JWK\'s own kid selects it', () => {
  const jwk = { ...pairs.EdDSA.publicKey.export({ format: 'jwk' }), kid: 'ed-1' }
  const v = verifier([{ alg: 'EdDSA', key: JSON.stringify(jwk) }])
  assert.equal(reason(v.verify(signJwt({ alg: 'EdDSA', kid: 'ed-1' }, claims(), signingKey('EdDSA')), NOW)), 'ok:alice')
  assert.equal(reason(v.verify(signJwt({ alg: 'EdDSA', kid: 'ed-2' }, claims(), signingKey('EdDSA')), NOW)), 'no-key')
})

test('exp: accepted before it, refused from it on; the clock skew moves the edge by exactly the skew', () => {
  const token = signJwt({ alg: 'HS256' }, claims({ exp: SECONDS + 10 }), HS_SECRET)
  const strict = verifier([keyOf('HS256')])
  assert.equal(reason(strict.verify(token, NOW + 9_999)), 'ok:alice')
  assert.equal(reason(strict.verify(token, NOW + 10_000)), 'expired')
  const skewed = verifier([keyOf('HS256')], { clockSkewMs: 30_000 })
  assert.equal(reason(skewed.verify(token, NOW + 39_999)), 'ok:alice')
  assert.equal(reason(skewed.verify(token, NOW + 40_000)), 'expired')
})

test('an expired token is refused even when it was accepted (and remembered) before', () => {
  const token = signJwt({ alg: 'HS256' }, claims({ exp: SECONDS + 1 }), HS_SECRET)
  const v = verifier([keyOf('HS256')])
  assert.equal(reason(v.verify(token, NOW)), 'ok:alice')
  assert.equal(reason(v.verify(token, NOW + 1_000)), 'expired')
})

test('nbf: refused before it (less the skew), accepted from it on', () => {
  const token = signJwt({ alg: 'HS256' }, claims({ nbf: SECONDS + 10 }), HS_SECRET)
  assert.equal(reason(verifier([keyOf('HS256')]).verify(token, NOW + 9_999)), 'not-yet-valid')
  assert.equal(reason(verifier([keyOf('HS256')]).verify(token, NOW + 10_000)), 'ok:alice')
  assert.equal(reason(verifier([keyOf('HS256')], { clockSkewMs: 5_000 }).verify(token, NOW + 5_000)), 'ok:alice')
  assert.equal(reason(verifier([keyOf('HS256')], { clockSkewMs: 5_000 }).verify(token, NOW + 4_999)), 'not-yet-valid')
})

test('a token without exp, with a non-numeric nbf or without sub is refused', () => {
  const v = verifier([keyOf('HS256')])
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ exp: undefined }), HS_SECRET), NOW)), 'malformed')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ exp: String(SECONDS + 60) }), HS_SECRET), NOW)), 'malformed')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ nbf: 'soon' }), HS_SECRET), NOW)), 'malformed')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ sub: undefined }), HS_SECRET), NOW)), 'no-subject')
})

test('iss: must equal the configured issuer when there is one', () => {
  const v = verifier([keyOf('HS256')], { issuer: 'https://issuer.test' })
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims(), HS_SECRET), NOW)), 'ok:alice')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ iss: 'https://evil.test' }), HS_SECRET), NOW)), 'wrong-issuer')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ iss: undefined }), HS_SECRET), NOW)), 'wrong-issuer')
  assert.equal(reason(verifier([keyOf('HS256')]).verify(signJwt({ alg: 'HS256' }, claims({ iss: 'https://evil.test' }), HS_SECRET), NOW)), 'ok:alice', 'no issuer configured: any')
})

test('aud: a string equal to the audience, or a list holding it; absent or other is refused', () => {
  const v = verifier([keyOf('HS256')], { audience: 'orders' })
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims(), HS_SECRET), NOW)), 'ok:alice')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ aud: ['billing', 'orders'] }), HS_SECRET), NOW)), 'ok:alice')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ aud: 'billing' }), HS_SECRET), NOW)), 'wrong-audience')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ aud: ['billing'] }), HS_SECRET), NOW)), 'wrong-audience')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims({ aud: undefined }), HS_SECRET), NOW)), 'wrong-audience')
})

test('a crit header is refused; keys named in the token (jwk, jku) are ignored', () => {
  const v = verifier([keyOf('ES256')])
  assert.equal(reason(v.verify(signJwt({ alg: 'ES256', crit: ['exp'] }, claims(), signingKey('ES256')), NOW)), 'unsupported-alg')
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const embedded = signJwt({ alg: 'ES256', jwk: attacker.publicKey.export({ format: 'jwk' }), jku: 'https://evil.test/jwks' }, claims(), attacker.privateKey)
  assert.equal(reason(v.verify(embedded, NOW)), 'bad-signature')
})

test('strings that are not three base64url parts are malformed', () => {
  const v = verifier([keyOf('HS256')])
  const good = signJwt({ alg: 'HS256' }, claims(), HS_SECRET)
  for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', `${good}.x`, good.replace('.', '..'), good.replace(/^./, '+'), `${b64url([1])}.${b64url(claims())}.AAAA`, 'x'.repeat(8193)]) {
    assert.equal(reason(v.verify(bad, NOW)), 'malformed', bad.slice(0, 40))
  }
})

test('keys that do not read are left out instead of failing the verifier', () => {
  const v = verifier([{ alg: 'RS256', key: 'not a key' }, { alg: 'HS256', key: 'short' }, keyOf('EdDSA')])
  assert.equal(reason(v.verify(signJwt({ alg: 'EdDSA' }, claims(), signingKey('EdDSA')), NOW)), 'ok:alice')
  assert.equal(reason(v.verify(signJwt({ alg: 'HS256' }, claims(), 'short'), NOW)), 'no-key')
})
