import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import {
  ANONYMOUS, CallerAuthenticator, DEFAULT_SIGNED_BODY_BYTES, PlatformCallKey, emptyAuthFacts, generateApiKey, generateWebhookSecret,
  scanAuthHeaders, signWebhook, type AuthFacts, type AuthResult, type CallerAuth
} from '../../src/governance/index.js'

const NOW = 1_700_000_000_000
const HS_SECRET = 'an HS256 secret of at least thirty-two bytes'

function facts (fields: Partial<AuthFacts> = {}): AuthFacts {
  return { ...emptyAuthFacts(), ...fields }
}

function hmacAuth (secrets: string[], replayCacheSize = 100): CallerAuth {
  return { mode: 'hmac', secrets, toleranceMs: 300_000, signer: 'hooks', replayCacheSize, maxBodyBytes: DEFAULT_SIGNED_BODY_BYTES }
}

function hs256 (claims: Record<string, unknown>): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${input}.${createHmac('sha256', HS_SECRET).update(input).digest('base64url')}`
}

function refusal (result: AuthResult): { status: number, code: string, wwwAuthenticate: string } {
  assert.equal(result.ok, false, 'expected a refusal')
  const { status, code, wwwAuthenticate } = result as Extract<AuthResult, { ok: false }>
  return { status, code, wwwAuthenticate }
}

describe('scanAuthHeaders', () => {
  test('reads the auth headers from rawHeaders in any case, the first of each winning, and resets what it does not find', () => {
    const into = facts({ body: Buffer.from('old'), callToken: 'old' })
    scanAuthHeaders([
      'Host', 'x', 'AUTHORIZATION', 'Bearer a', 'authorization', 'Bearer b', 'X-Api-Key', 'k', 'Webhook-Id', 'i',
      'Webhook-Timestamp', '1', 'webhook-signature', 'v1,s', 'Transfer-Encoding', 'chunked', 'X-Request-Id', 'r'
    ], into)
    assert.deepEqual(into, { authorization: 'Bearer a', apiKey: 'k', webhookId: 'i', webhookTimestamp: '1', webhookSignature: 'v1,s', callToken: undefined, body: undefined })
    scanAuthHeaders(['X-Roost-Call', 't'], into)
    assert.deepEqual(into, { ...emptyAuthFacts(), callToken: 't' })
  })
})

describe('none', () => {
  test('every caller is anonymous', () => {
    assert.deepEqual(new CallerAuthenticator({ mode: 'none' }).authenticate(facts(), NOW), { ok: true, caller: ANONYMOUS })
  })
})

describe('key', () => {
  const key = generateApiKey()
  const expired = generateApiKey()
  const auth: CallerAuth = { mode: 'key', keys: [{ id: key.id, sha256: key.sha256 }, { id: expired.id, sha256: expired.sha256, expiresAt: NOW }] }

  test('a key in x-api-key or as a bearer token names the caller key:<id>', () => {
    const a = new CallerAuthenticator(auth)
    assert.deepEqual(a.authenticate(facts({ apiKey: key.key }), NOW), { ok: true, caller: `key:${key.id}` })
    assert.deepEqual(a.authenticate(facts({ authorization: `Bearer ${key.key}` }), NOW), { ok: true, caller: `key:${key.id}` })
    assert.deepEqual(a.authenticate(facts({ authorization: `bearer   ${key.key}  ` }), NOW), { ok: true, caller: `key:${key.id}` })
  })

  test('x-api-key wins over Authorization, which stays the function\'s own', () => {
    const a = new CallerAuthenticator(auth)
    assert.equal(a.authenticate(facts({ apiKey: key.key, authorization: 'Basic dXNlcjpwdw==' }), NOW).ok, true)
  })

  test('no key: 401 with a Bearer challenge; a wrong, expired or malformed key: 401 invalid_token', () => {
    const a = new CallerAuthenticator(auth)
    assert.deepEqual(refusal(a.authenticate(facts(), NOW)), { status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate: 'Bearer realm="roost"' })
    assert.deepEqual(refusal(a.authenticate(facts({ authorization: 'Basic dXNlcjpwdw==' }), NOW)), { status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate: 'Bearer realm="roost"' })
    for (const presented of [generateApiKey().key, expired.key, 'rk_nope']) {
      assert.deepEqual(refusal(a.authenticate(facts({ apiKey: presented }), NOW)), { status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate: 'Bearer realm="roost", error="invalid_token"' }, presented)
    }
    const detail = (a.authenticate(facts({ apiKey: expired.key }), NOW) as { detail: string }).detail
    assert.equal(detail, 'the API key has expired')
  })

  test('a revoked key (gone from the pushed records) is refused after update', () => {
    const a = new CallerAuthenticator(auth)
    a.update({ mode: 'key', keys: [] })
    assert.equal(a.authenticate(facts({ apiKey: key.key }), NOW).ok, false)
  })

  test('the success of a key is one shared object: nothing is allocated per request for it', () => {
    const a = new CallerAuthenticator(auth)
    assert.equal(a.authenticate(facts({ apiKey: key.key }), NOW), a.authenticate(facts({ apiKey: key.key }), NOW + 1))
  })
})

describe('hmac', () => {
  const secret = generateWebhookSecret()
  const signed = (id: string, seconds: number, body: string): AuthFacts =>
    facts({ webhookId: id, webhookTimestamp: String(seconds), webhookSignature: signWebhook(secret, id, seconds, body), body: Buffer.from(body) })

  test('needs the body, up to maxBodyBytes; a signed request names the caller hmac:<signer>', () => {
    const a = new CallerAuthenticator(hmacAuth([secret]))
    assert.equal(a.needsBody, true)
    assert.equal(a.maxBodyBytes, DEFAULT_SIGNED_BODY_BYTES)
    assert.deepEqual(a.authenticate(signed('m1', NOW / 1000, '{"a":1}'), NOW), { ok: true, caller: 'hmac:hooks' })
  })

  test('an unsigned or tampered request gets 401 with a Webhook-Signature challenge', () => {
    const a = new CallerAuthenticator(hmacAuth([secret]))
    assert.deepEqual(refusal(a.authenticate(facts(), NOW)), { status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate: 'Webhook-Signature realm="roost"' })
    const tampered = { ...signed('m1', NOW / 1000, '{"a":1}'), body: Buffer.from('{"a":2}') }
    assert.equal(refusal(a.authenticate(tampered, NOW)).status, 401)
  })

  test('the replay cache survives a policy update (a routing-table push), with rotated secrets', () => {
    const a = new CallerAuthenticator(hmacAuth([secret]))
    const request = signed('m1', NOW / 1000, 'x')
    assert.equal(a.authenticate(request, NOW).ok, true)
    a.update(hmacAuth([secret, generateWebhookSecret()]))
    assert.equal(refusal(a.authenticate(request, NOW + 1)).status, 401, 'still a replay after the push')
  })

  test('a full replay cache answers 503 with Retry-After, not 401', () => {
    const a = new CallerAuthenticator(hmacAuth([secret], 1))
    assert.equal(a.authenticate(signed('m1', NOW / 1000, ''), NOW).ok, true)
    const result = a.authenticate(signed('m2', NOW / 1000, ''), NOW)
    assert.deepEqual(refusal(result), { status: 503, code: 'ROOST_E_OVERLOADED', wwwAuthenticate: 'Webhook-Signature realm="roost"' })
    assert.equal((result as { retryAfterSeconds?: number }).retryAfterSeconds, 1)
  })

  test('other modes do not need the body', () => {
    assert.equal(new CallerAuthenticator({ mode: 'key', keys: [] }).needsBody, false)
    assert.equal(new CallerAuthenticator({ mode: 'key', keys: [] }).maxBodyBytes, 0)
  })
})

describe('jwt', () => {
  const auth: CallerAuth = { mode: 'jwt', issuer: 'https://issuer.test', audience: 'orders', clockSkewMs: 0, keys: [{ alg: 'HS256', key: HS_SECRET }] }
  const claims = { sub: 'alice', iss: 'https://issuer.test', aud: 'orders', exp: NOW / 1000 + 60 }

  test('a valid bearer JWT names the caller jwt:<sub>', () => {
    assert.deepEqual(new CallerAuthenticator(auth).authenticate(facts({ authorization: `Bearer ${hs256(claims)}` }), NOW), { ok: true, caller: 'jwt:alice' })
  })

  test('no token: 401 Bearer; an expired or foreign one: 401 invalid_token with the reason', () => {
    const a = new CallerAuthenticator(auth)
    assert.deepEqual(refusal(a.authenticate(facts(), NOW)), { status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate: 'Bearer realm="roost"' })
    const expired = a.authenticate(facts({ authorization: `Bearer ${hs256({ ...claims, exp: NOW / 1000 })}` }), NOW)
    assert.deepEqual(refusal(expired), { status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate: 'Bearer realm="roost", error="invalid_token"' })
    assert.equal((expired as { detail: string }).detail, 'the token has expired (exp)')
    const foreign = a.authenticate(facts({ authorization: `Bearer ${hs256({ ...claims, aud: 'billing' })}` }), NOW)
    assert.equal((foreign as { detail: string }).detail, 'the token\'s aud does not name this function\'s audience')
  })

  test('an API key sent to a jwt function is not a JWT', () => {
    assert.equal(refusal(new CallerAuthenticator(auth).authenticate(facts({ authorization: `Bearer ${generateApiKey().key}` }), NOW)).status, 401)
  })
})

describe('private', () => {
  const callKey = PlatformCallKey.generate()
  const auth: CallerAuth = { mode: 'private', namespace: 'shop' }

  test('a function of the same namespace is let in as fn:<namespace>/<name>', () => {
    const a = new CallerAuthenticator(auth, { callKey })
    assert.deepEqual(a.authenticate(facts({ callToken: callKey.mint('shop', 'cart') }), NOW), { ok: true, caller: 'fn:shop/cart' })
  })

  test('a function of another namespace: 403; no token or a forged one: 401 with a Roost-Call challenge', () => {
    const a = new CallerAuthenticator(auth, { callKey })
    assert.deepEqual(refusal(a.authenticate(facts({ callToken: callKey.mint('other', 'cart') }), NOW)), { status: 403, code: 'ROOST_E_FORBIDDEN', wwwAuthenticate: 'Roost-Call realm="roost"' })
    assert.deepEqual(refusal(a.authenticate(facts(), NOW)), { status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate: 'Roost-Call realm="roost"' })
    assert.equal(refusal(a.authenticate(facts({ callToken: PlatformCallKey.generate().mint('shop', 'cart') }), NOW)).status, 401)
  })

  test('a gateway without the platform call key refuses every call (fails closed)', () => {
    assert.equal(refusal(new CallerAuthenticator(auth).authenticate(facts({ callToken: callKey.mint('shop', 'cart') }), NOW)).status, 401)
  })

  test('an API key or a JWT does not open a private function', () => {
    const a = new CallerAuthenticator(auth, { callKey })
    assert.equal(a.authenticate(facts({ apiKey: generateApiKey().key, authorization: `Bearer ${hs256({ sub: 'x', exp: NOW / 1000 + 60 })}` }), NOW).ok, false)
  })
})

test('update switches modes: the same authenticator follows the pushed policy', () => {
  const key = generateApiKey()
  const a = new CallerAuthenticator({ mode: 'none' })
  assert.equal(a.authenticate(facts(), NOW).ok, true)
  a.update({ mode: 'key', keys: [{ id: key.id, sha256: key.sha256 }] })
  assert.equal(a.mode, 'key')
  assert.equal(a.authenticate(facts(), NOW).ok, false)
  assert.equal(a.authenticate(facts({ apiKey: key.key }), NOW).ok, true)
})

describe('the bearer token of Authorization', () => {
  const key = generateApiKey()
  const a = new CallerAuthenticator({ mode: 'key', keys: [{ id: key.id, sha256: key.sha256 }] })
  const accepted = (authorization: string): boolean => a.authenticate(facts({ authorization }), NOW).ok

  test('is read after "Bearer" in any case and blanks, trailing blanks ignored', () => {
    for (const header of [`Bearer ${key.key}`, `BEARER ${key.key}`, `bEaReR\t${key.key}`, `Bearer    ${key.key} \t`]) assert.equal(accepted(header), true, header)
  })

  test('is not read from another scheme, without a blank after the scheme, or with a second word', () => {
    for (const header of [`Basic ${key.key}`, `Bearer${key.key}`, `Bearers ${key.key}`, `Bearer ${key.key} extra`, 'Bearer ', 'Bearer', key.key]) assert.equal(accepted(header), false, header)
  })
})
