// spec.http.auth from the stored Function to the CallerAuth the gateway enforces.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { authReferenceProblems, authSecretNamesOf, compileCallerAuth } from '../../src/api/caller-auth.js'
import { validateFunction } from '../../src/api/validate.js'
import { CallerAuthenticator, emptyAuthFacts, generateWebhookSecret, signWebhook, type ApiKeyRecord } from '../../src/governance/index.js'

const SIGNING_A = generateWebhookSecret()
const SIGNING_B = generateWebhookSecret()
const HS_SECRET = 'an HS256 secret of at least thirty-two bytes'
const secrets: Record<string, { data: Record<string, string>, resourceVersion: number }> = {
  hooks: { data: { CURRENT: SIGNING_A, NEXT: SIGNING_B }, resourceVersion: 3 },
  mixed: { data: { GOOD: SIGNING_A, PLAIN: 'not-a-whsec' }, resourceVersion: 4 },
  jwt: { data: { KEY: HS_SECRET, SHORT: 'short' }, resourceVersion: 5 }
}
const lookup = (name: string): typeof secrets[string] | undefined => secrets[name]
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string
const edJwk = { ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'ed-1' }

const specOf = (auth: unknown) => validateFunction({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f', namespace: 'shop' }, spec: { source: './f.ts', http: { auth } } }).spec
const compile = (auth: unknown, keys: ApiKeyRecord[] = []) => compileCallerAuth(specOf(auth).http.auth, 'shop', lookup, () => keys)
const fields = (auth: unknown): string[] => authReferenceProblems(specOf(auth), lookup).map((p) => `${p.field}: ${p.message}`)

test('none, key and private compile to their modes; key carries the function\'s key records and private its namespace', () => {
  const records = [{ id: 'rk_0123456789ab', sha256: 'ab'.repeat(32) }]
  assert.deepEqual(compile('none'), { mode: 'none' })
  assert.deepEqual(compile('key', records), { mode: 'key', keys: records })
  assert.deepEqual(compile('private'), { mode: 'private', namespace: 'shop' })
})

test('hmac with a key compiles to that one secret, with the tolerance in ms and the Secret as signer', () => {
  assert.deepEqual(compile({ mode: 'hmac', secretRef: { name: 'hooks', key: 'CURRENT' }, tolerance: '2m' }), {
    mode: 'hmac', secrets: [SIGNING_A], toleranceMs: 120_000, signer: 'hooks', replayCacheSize: 50_000, maxBodyBytes: 1024 * 1024
  })
})

test('hmac without a key takes every key of the Secret, so a rotation is adding a key and removing the old one later', () => {
  const auth = compile({ mode: 'hmac', secretRef: { name: 'hooks' } })
  assert.equal(auth.mode, 'hmac')
  assert.deepEqual(auth.mode === 'hmac' && auth.secrets, [SIGNING_A, SIGNING_B])
  const authenticator = new CallerAuthenticator(auth)
  const now = 1_700_000_000_000
  for (const [id, secret] of [['a', SIGNING_A], ['b', SIGNING_B]]) {
    const result = authenticator.authenticate({ ...emptyAuthFacts(), webhookId: id, webhookTimestamp: String(now / 1000), webhookSignature: signWebhook(secret, id, now / 1000, '{}'), body: Buffer.from('{}') }, now)
    assert.deepEqual(result, { ok: true, caller: 'hmac:hooks' })
  }
})

test('a missing Secret, key or a value that is not a whsec_ secret is a problem on apply; compiled, it fails closed', () => {
  assert.deepEqual(fields({ mode: 'hmac', secretRef: { name: 'nope' } }), ['spec.http.auth.secretRef: secret nope does not exist in this namespace; create it with `roost secret create nope --from-literal SIGNING_SECRET=whsec_$(openssl rand -base64 32)`'])
  assert.deepEqual(fields({ mode: 'hmac', secretRef: { name: 'hooks', key: 'OLD' } }), ['spec.http.auth.secretRef: secret hooks has no key OLD; it has CURRENT, NEXT'])
  assert.match(fields({ mode: 'hmac', secretRef: { name: 'mixed' } }).join('\n'), /^spec\.http\.auth\.secretRef: secret mixed key PLAIN: a signing secret starts with whsec_/)
  const closed = compile({ mode: 'hmac', secretRef: { name: 'nope' } })
  assert.deepEqual(closed.mode === 'hmac' && closed.secrets, [])
  assert.deepEqual(fields({ mode: 'hmac', secretRef: { name: 'hooks' } }), [])
})

test('jwt compiles every key to one alg: PEM and JWK by their type, a secretRef to HS256 with the Secret\'s value', () => {
  const auth = compile({ mode: 'jwt', issuer: 'https://issuer.test', audience: 'orders', clockSkew: '1m', keys: [{ kid: 'ec', pem: ecPem }, { kid: 'h', secretRef: { name: 'jwt', key: 'KEY' } }], jwks: { keys: [edJwk] } })
  assert.deepEqual(auth, {
    mode: 'jwt',
    issuer: 'https://issuer.test',
    audience: 'orders',
    clockSkewMs: 60_000,
    keys: [{ alg: 'ES256', kid: 'ec', key: ecPem }, { alg: 'HS256', kid: 'h', key: HS_SECRET }, { alg: 'EdDSA', kid: 'ed-1', key: JSON.stringify(edJwk) }]
  })
})

test('jwt references: a missing Secret or key, a short HS256 secret and an unread keysFile are problems on apply', () => {
  assert.deepEqual(fields({ mode: 'jwt', keys: [{ secretRef: { name: 'gone', key: 'K' } }, { secretRef: { name: 'jwt', key: 'NOPE' } }, { secretRef: { name: 'jwt', key: 'SHORT' } }] }), [
    'spec.http.auth.keys[0].secretRef: secret gone does not exist in this namespace; create it with `roost secret create gone --from-literal K=VALUE`',
    'spec.http.auth.keys[1].secretRef: secret jwt has no key NOPE; it has KEY, SHORT',
    'spec.http.auth.keys[2].secretRef: secret jwt key SHORT: an HS256 secret is at least 32 bytes (RFC 7518 §3.2); this one has 5'
  ])
  assert.deepEqual(fields({ mode: 'jwt', keysFile: './jwks.json' }), ['spec.http.auth.keysFile: a keys file is read where the manifest is, by `roost apply`; through the API, send the keys themselves as keys or jwks'])
})

test('authSecretNamesOf names the Secrets auth reads, each once', () => {
  assert.deepEqual(authSecretNamesOf(specOf('key')), [])
  assert.deepEqual(authSecretNamesOf(specOf({ mode: 'hmac', secretRef: { name: 'hooks' } })), ['hooks'])
  assert.deepEqual(authSecretNamesOf(specOf({ mode: 'jwt', keys: [{ secretRef: { name: 'jwt', key: 'KEY' } }, { secretRef: { name: 'jwt', key: 'SHORT' } }, { pem: ecPem }] })), ['jwt'])
})
