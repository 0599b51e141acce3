// Caller identity at the gateway on a real `roost up` (issue 11, "Caller
// identity" and "Timeouts"): API keys made and revoked with the CLI, requests
// signed as Standard Webhooks signs them, JWTs signed here with node:crypto,
// private functions called by their namespace through ctx.fetch; the identity
// as ctx.caller and as the key of per-caller limits; refused callers counted
// against nothing; a call's deadline passed on to the function it calls.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { rmSync } from 'node:fs'
import { ok } from '../helpers/e2e.js'
import { answer, metric } from '../helpers/governance.js'
import { TestPlatform, writeProject } from '../helpers/platform.js'
import { expectProblem } from '../helpers/problems.js'

// What the handler knows of its caller; ?call=PATH calls PATH through ctx.fetch first.
const WHO_TS = `
export default async (req: Request, ctx: any): Promise<Response> => {
  const url = new URL(req.url)
  const target = url.searchParams.get('call')
  const seen = { caller: ctx.caller, deadline: ctx.deadline, function: ctx.function.namespace + '/' + ctx.function.name, body: await req.text() }
  if (target === null) return Response.json(seen)
  const called = await ctx.fetch(target)
  return Response.json({ ...seen, called: { status: called.status, body: await called.json() } })
}
`

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'roost-tests'
const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const jwk = { ...signing.publicKey.export({ format: 'jwk' }), kid: 'test-1' }
const oldSecret = webhookSecret()
const newSecret = webhookSecret()

const FUNCTIONS = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: keyed }
spec:
  source: ./who.ts
  http: { auth: key }
  governance:
    rules: [{ name: per-caller, rateLimit: { limit: 2, window: 1m, key: caller } }]
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: hooks }
spec:
  source: ./who.ts
  http:
    auth: { mode: hmac, secretRef: { name: signing }, tolerance: 1m }
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: tokens }
spec:
  source: ./who.ts
  http:
    auth: { mode: jwt, issuer: "${ISSUER}", audience: ${AUDIENCE}, keysFile: ./jwks.json }
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: inner, namespace: team }
spec:
  source: ./who.ts
  http: { auth: private }
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: outer, namespace: team }
spec:
  source: ./who.ts
  timeout: 5s
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: outsider, namespace: other }
spec:
  source: ./who.ts
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'who.ts': WHO_TS, 'functions.yaml': FUNCTIONS, 'jwks.json': JSON.stringify({ keys: [jwk] }) })
  ok(await platform.cli(['secret', 'create', 'signing', '--from-literal', `CURRENT=${oldSecret}`]), 'secret create')
  ok(await platform.cli(['apply', '-f', 'functions.yaml'], { cwd: dir }), 'apply')
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Seen { caller: string | null, deadline: number, function: string, body: string, called?: { status: number, body: Seen & { code?: string } } }

async function seen (path: string, init?: RequestInit): Promise<Seen> {
  const got = await answer(platform, path, init)
  assert.equal(got.status, 200, `${path}: ${got.status} ${got.body}`)
  return JSON.parse(got.body) as Seen
}

async function createKey (fn: string): Promise<{ key: string, id: string }> {
  const key = ok(await platform.cli(['key', 'create', fn]), 'key create').trim()
  return { key, id: key.slice(0, 15) }
}

function webhookSecret (): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/** Standard Webhooks: a base64 HMAC-SHA256, keyed by the secret's bytes, over id.timestamp.body. */
function signed (secret: string, id: string, timestamp: number, body: string): RequestInit {
  const mac = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64')
  return { method: 'POST', body, headers: { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${mac}`, 'content-type': 'application/json' } }
}

function jwt (claims: Record<string, unknown>, key: KeyObject = signing.privateKey): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${part({ alg: 'ES256', typ: 'JWT', kid: 'test-1' })}.${part(claims)}`
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
}

function bearer (token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } }
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

test('auth key: no key or a wrong one is 401 with WWW-Authenticate; a key from roost key create passes as a bearer token or x-api-key, and the handler sees it as ctx.caller', async () => {
  const missing = await platform.fetch('/fn/keyed')
  assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer\b/)
  await expectProblem(missing, 401)
  await expectProblem(await platform.fetch('/fn/keyed', bearer('rk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')), 401)
  for (let i = 0; i < 3; i++) await expectProblem(await platform.fetch('/fn/keyed'), 401)

  const { key, id } = await createKey('keyed')
  assert.equal((await seen('/fn/keyed', bearer(key))).caller, `key:${id}`)
  assert.equal((await seen('/fn/keyed', { headers: { 'x-api-key': key } })).caller, `key:${id}`)
  // Per caller, 2 a minute: the refused calls before counted for nothing, the key's own two for it.
  const third = await platform.fetch('/fn/keyed', bearer(key))
  await expectProblem(third, 429, 'ROOST_E_RATE_LIMITED')
  assert.equal(third.headers.get('ratelimit-policy'), '"per-caller";q=2;w=60')

  const other = await createKey('keyed')
  assert.equal((await seen('/fn/keyed', bearer(other.key))).caller, `key:${other.id}`)
  assert.equal((await seen('/fn/keyed', bearer(other.key))).caller, `key:${other.id}`, 'another key has a quota of its own')
  await expectProblem(await platform.fetch('/fn/keyed', bearer(other.key)), 429, 'ROOST_E_RATE_LIMITED')
  assert.equal(await metric(platform, 'roost_governance_limiter_keys', { function: 'keyed', rule: 'spec.governance.rules[0]' }), 2)
  assert.equal(await metric(platform, 'roost_governance_rejected_total', { function: 'keyed', reason: 'rate-limited', rule: 'spec.governance.rules[0]' }), 2, 'the 401s are not rejections of a rule')

  assert.equal(ok(await platform.cli(['key', 'revoke', id]), 'key revoke'), `key/${id} revoked (function/keyed)\n`)
  await expectProblem(await platform.fetch('/fn/keyed', bearer(key)), 401)
})

test('auth hmac: a request signed as Standard Webhooks signs it passes once; a replay, another body, an old timestamp or an unsigned request is 401', async () => {
  const body = JSON.stringify({ event: 'paid', amount: 42 })
  const stamp = nowSeconds()
  const first = await seen('/fn/hooks', signed(oldSecret, 'msg_1', stamp, body))
  assert.deepEqual([first.caller, first.body], ['hmac:signing', body], 'the handler gets the body that was signed')

  const replay = await platform.fetch('/fn/hooks', signed(oldSecret, 'msg_1', stamp, body))
  assert.match(replay.headers.get('www-authenticate') ?? '', /^Webhook-Signature\b/)
  assert.match((await expectProblem(replay, 401)).detail, /replay/)
  const tampered = { ...signed(oldSecret, 'msg_2', stamp, body), body: body.replace('42', '4200') }
  await expectProblem(await platform.fetch('/fn/hooks', tampered), 401)
  await expectProblem(await platform.fetch('/fn/hooks', signed(oldSecret, 'msg_3', stamp - 600, body)), 401)
  await expectProblem(await platform.fetch('/fn/hooks', signed(webhookSecret(), 'msg_4', stamp, body)), 401)
  await expectProblem(await platform.fetch('/fn/hooks', { method: 'POST', body }), 401)
  assert.equal((await seen('/fn/hooks', signed(oldSecret, 'msg_1', stamp + 1, body))).caller, 'hmac:signing', 'the sender\'s own retry has a new timestamp')
})

test('auth hmac: with a second secret in the Secret both are accepted, so a sender can move to the new one', async () => {
  ok(await platform.cli(['secret', 'create', 'signing', '--overwrite', '--from-literal', `CURRENT=${oldSecret}`, '--from-literal', `NEXT=${newSecret}`]), 'secret rotation')
  const body = '{"event":"rotated"}'
  assert.equal((await seen('/fn/hooks', signed(newSecret, 'rot_1', nowSeconds(), body))).caller, 'hmac:signing')
  assert.equal((await seen('/fn/hooks', signed(oldSecret, 'rot_2', nowSeconds(), body))).caller, 'hmac:signing')
})

test('auth jwt: a token of the issuer for the audience passes as jwt:<sub>; expired, for another audience, or signed by another key is 401', async () => {
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: nowSeconds() + 300 }
  assert.equal((await seen('/fn/tokens', bearer(jwt(claims)))).caller, 'jwt:alice')
  const refused = async (token: string, detail: RegExp): Promise<void> => {
    const response = await platform.fetch('/fn/tokens', bearer(token))
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer\b/)
    assert.match((await expectProblem(response, 401)).detail, detail)
  }
  await refused(jwt({ ...claims, exp: nowSeconds() - 300 }), /expired/)
  await refused(jwt({ ...claims, aud: 'someone-else' }), /aud/)
  await refused(jwt({ ...claims, iss: 'https://elsewhere.test' }), /iss/)
  await refused(jwt(claims, stranger.privateKey), /signature/)
  await expectProblem(await platform.fetch('/fn/tokens'), 401)
})

test('auth private: a function of the namespace calling through ctx.fetch passes as fn:<ns>/<name>; from outside 401, from another namespace 403', async () => {
  const chain = await seen('/fn/outer.team?call=/fn/inner.team')
  assert.equal(chain.called?.status, 200, JSON.stringify(chain))
  assert.deepEqual([chain.caller, chain.called?.body.caller, chain.called?.body.function], [null, 'fn:team/outer', 'team/inner'])

  const outside = await platform.fetch('/fn/inner.team')
  assert.match(outside.headers.get('www-authenticate') ?? '', /^Roost-Call\b/)
  await expectProblem(outside, 401)
  await expectProblem(await platform.fetch('/fn/inner.team', { headers: { 'x-roost-call': 'rc1.team.outer.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), 401)

  const across = await seen('/fn/outsider.other?call=/fn/inner.team')
  assert.equal(across.called?.status, 403, JSON.stringify(across))
  assert.equal(across.called?.body.caller, undefined, 'the handler of inner never ran')
})

test('a call through ctx.fetch carries the caller\'s deadline: the callee\'s ctx.deadline is no later than the caller\'s', async () => {
  const before = Date.now()
  const chain = await seen('/fn/outer.team?call=/fn/inner.team')
  const inner = chain.called?.body as Seen
  assert.ok(chain.deadline <= before + 5_000 + 1_000 && chain.deadline > before, `outer's deadline is its 5 s timeout from arrival: ${chain.deadline - before} ms`)
  assert.ok(inner.deadline <= chain.deadline, `inner's deadline ${inner.deadline} is after outer's ${chain.deadline}`)
  // From outside, a deadline header is not the caller's to set.
  const direct = await seen('/fn/outer.team', { headers: { 'x-roost-deadline': String(Date.now() + 50) } })
  assert.ok(direct.deadline - Date.now() > 2_000, 'an outside caller\'s x-roost-deadline is ignored')
})
