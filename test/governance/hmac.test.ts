import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { WebhookVerifier, decodeWebhookSecret, generateWebhookSecret, signWebhook, webhookSecretProblem } from '../../src/governance/index.js'

// The example of the Standard Webhooks reference libraries (libraries/javascript/src/index.test.ts).
const REFERENCE = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
}

const T0 = 1_700_000_000 // Unix seconds of the fake clock's start
const NOW = T0 * 1000
const TOLERANCE = 5 * 60_000

function verifier (secrets: string[], replayCacheSize = 100): WebhookVerifier {
  return new WebhookVerifier({ secrets, toleranceMs: TOLERANCE, replayCacheSize })
}

test('signWebhook reproduces the reference libraries\' signature of their example', () => {
  assert.equal(signWebhook(REFERENCE.secret, REFERENCE.id, REFERENCE.timestamp, REFERENCE.body), REFERENCE.signature)
})

test('the reference example verifies at its own time', () => {
  const v = verifier([REFERENCE.secret])
  assert.deepEqual(v.verify(REFERENCE.id, String(REFERENCE.timestamp), REFERENCE.signature, Buffer.from(REFERENCE.body), REFERENCE.timestamp * 1000), { ok: true })
})

test('the signature is an HMAC-SHA256 of id.timestamp.body over the raw bytes, keyed by the base64 after whsec_', () => {
  const secret = generateWebhookSecret()
  const body = Buffer.from([0xff, 0x00, 0x7b, 0x0a]) // not UTF-8: bytes are signed, not text
  const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(Buffer.concat([Buffer.from('m1.1700000000.'), body])).digest('base64')
  assert.equal(signWebhook(secret, 'm1', T0, body), `v1,${mac}`)
  assert.deepEqual(verifier([secret]).verify('m1', String(T0), `v1,${mac}`, body, NOW), { ok: true })
})

test('a tampered body, id or timestamp does not verify', () => {
  const secret = generateWebhookSecret()
  const signature = signWebhook(secret, 'm1', T0, '{"amount":1}')
  const v = verifier([secret])
  assert.equal(outcomeReason(v.verify('m1', String(T0), signature, Buffer.from('{"amount":9}'), NOW)), 'bad-signature')
  assert.equal(outcomeReason(v.verify('m2', String(T0), signature, Buffer.from('{"amount":1}'), NOW)), 'bad-signature')
  assert.equal(outcomeReason(v.verify('m1', String(T0 + 1), signature, Buffer.from('{"amount":1}'), NOW)), 'bad-signature')
  assert.deepEqual(v.verify('m1', String(T0), signature, Buffer.from('{"amount":1}'), NOW), { ok: true }, 'the untampered one still does')
})

test('several secrets at once: a message signed with either verifies, one signed with a removed secret does not', () => {
  const old = generateWebhookSecret()
  const next = generateWebhookSecret()
  const both = verifier([old, next])
  assert.deepEqual(both.verify('a', String(T0), signWebhook(old, 'a', T0, 'x'), Buffer.from('x'), NOW), { ok: true })
  assert.deepEqual(both.verify('b', String(T0), signWebhook(next, 'b', T0, 'x'), Buffer.from('x'), NOW), { ok: true })
  both.configure({ secrets: [next], toleranceMs: TOLERANCE, replayCacheSize: 100 })
  assert.equal(outcomeReason(both.verify('c', String(T0), signWebhook(old, 'c', T0, 'x'), Buffer.from('x'), NOW)), 'bad-signature')
})

test('a header with several signatures verifies when any v1 entry matches; other versions are skipped', () => {
  const secret = generateWebhookSecret()
  const good = signWebhook(secret, 'a', T0, 'x')
  const header = `v1a,aGVsbG8= v1,${Buffer.alloc(32).toString('base64')} ${good}`
  assert.deepEqual(verifier([secret]).verify('a', String(T0), header, Buffer.from('x'), NOW), { ok: true })
  assert.equal(outcomeReason(verifier([secret]).verify('a', String(T0), 'v1a,aGVsbG8= v2,abc', Buffer.from('x'), NOW)), 'malformed')
})

test('timestamps within the tolerance either way are accepted, beyond it refused as too old or too new', () => {
  const secret = generateWebhookSecret()
  const v = verifier([secret])
  const at = (seconds: number, id: string): string | undefined => outcomeReason(v.verify(id, String(seconds), signWebhook(secret, id, seconds, ''), undefined, NOW))
  assert.equal(at(T0 - 300, 'old-edge'), undefined, 'exactly 5 min old')
  assert.equal(at(T0 + 300, 'new-edge'), undefined, 'exactly 5 min ahead')
  assert.equal(at(T0 - 301, 'old'), 'too-old')
  assert.equal(at(T0 + 301, 'new'), 'too-new')
})

test('the same signed message twice is a replay; the sender\'s retry with a new timestamp is not', () => {
  const secret = generateWebhookSecret()
  const v = verifier([secret])
  const signature = signWebhook(secret, 'msg', T0, 'x')
  assert.deepEqual(v.verify('msg', String(T0), signature, Buffer.from('x'), NOW), { ok: true })
  assert.equal(outcomeReason(v.verify('msg', String(T0), signature, Buffer.from('x'), NOW + 1000)), 'replayed')
  assert.deepEqual(v.verify('msg', String(T0 + 5), signWebhook(secret, 'msg', T0 + 5, 'x'), Buffer.from('x'), NOW + 5000), { ok: true })
  assert.equal(v.remembered, 2)
})

test('a replay after the tolerance window is refused by the timestamp, and the cache has forgotten the message', () => {
  const secret = generateWebhookSecret()
  const v = verifier([secret])
  const signature = signWebhook(secret, 'msg', T0, 'x')
  v.verify('msg', String(T0), signature, Buffer.from('x'), NOW)
  assert.equal(outcomeReason(v.verify('msg', String(T0), signature, Buffer.from('x'), NOW + TOLERANCE)), 'replayed', 'the last millisecond of the window')
  assert.equal(outcomeReason(v.verify('msg', String(T0), signature, Buffer.from('x'), NOW + TOLERANCE + 1)), 'too-old')
  const other = signWebhook(secret, 'other', T0 + 301, 'x')
  v.verify('other', String(T0 + 301), other, Buffer.from('x'), NOW + TOLERANCE + 1)
  assert.equal(v.remembered, 1, 'msg was forgotten when the next message came')
})

test('a full replay cache refuses a new message (replay-cache-full) instead of forgetting one, and accepts it once entries expire', () => {
  const secret = generateWebhookSecret()
  const v = verifier([secret], 2)
  const send = (id: string, seconds: number, now: number): string | undefined =>
    outcomeReason(v.verify(id, String(seconds), signWebhook(secret, id, seconds, ''), undefined, now))
  assert.equal(send('a', T0, NOW), undefined)
  assert.equal(send('b', T0 + 10, NOW), undefined)
  assert.equal(send('c', T0 + 20, NOW), 'replay-cache-full')
  assert.equal(send('a', T0, NOW), 'replayed', 'a is still remembered')
  assert.equal(send('c', T0 + 20, NOW + TOLERANCE + 1), undefined, 'a expired and made room')
})

test('a message with a bad signature never enters the replay cache', () => {
  const secret = generateWebhookSecret()
  const v = verifier([secret], 1)
  assert.equal(outcomeReason(v.verify('x', String(T0), `v1,${Buffer.alloc(32).toString('base64')}`, undefined, NOW)), 'bad-signature')
  assert.equal(v.remembered, 0)
  assert.deepEqual(v.verify('y', String(T0), signWebhook(secret, 'y', T0, ''), undefined, NOW), { ok: true })
})

test('missing headers, an id with ".", a timestamp that is not whole seconds, and too many signatures are refused before any MAC', () => {
  const secret = generateWebhookSecret()
  const v = verifier([secret])
  const signature = signWebhook(secret, 'a', T0, '')
  assert.equal(outcomeReason(v.verify(undefined, String(T0), signature, undefined, NOW)), 'missing')
  assert.equal(outcomeReason(v.verify('a', undefined, signature, undefined, NOW)), 'missing')
  assert.equal(outcomeReason(v.verify('a', String(T0), undefined, undefined, NOW)), 'missing')
  assert.equal(outcomeReason(v.verify('a.b', String(T0), signature, undefined, NOW)), 'malformed')
  assert.equal(outcomeReason(v.verify('', String(T0), signature, undefined, NOW)), 'malformed')
  assert.equal(outcomeReason(v.verify('a', `${T0}.5`, signature, undefined, NOW)), 'malformed')
  assert.equal(outcomeReason(v.verify('a', '-1', signature, undefined, NOW)), 'malformed')
  assert.equal(outcomeReason(v.verify('a', String(T0), Array(33).fill(signature).join(' '), undefined, NOW)), 'malformed')
  assert.deepEqual(v.verify('a', String(T0), Array(32).fill(signature).join(' '), undefined, NOW), { ok: true }, '32 entries are read')
})

test('no body and an empty body sign the same', () => {
  const secret = generateWebhookSecret()
  assert.deepEqual(verifier([secret]).verify('a', String(T0), signWebhook(secret, 'a', T0, ''), undefined, NOW), { ok: true })
})

test('a signing secret is whsec_ and at least 24 bytes of base64', () => {
  assert.equal(webhookSecretProblem(generateWebhookSecret()), undefined)
  assert.equal(webhookSecretProblem(REFERENCE.secret), undefined)
  assert.match(webhookSecretProblem('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') ?? '', /starts with whsec_/)
  assert.match(webhookSecretProblem('whsec_not base64!') ?? '', /base64/)
  assert.match(webhookSecretProblem(`whsec_${Buffer.alloc(16).toString('base64')}`) ?? '', /at least 24 random bytes; this one has 16/)
  assert.throws(() => decodeWebhookSecret('nope'), RangeError)
  assert.equal(decodeWebhookSecret(REFERENCE.secret).byteLength, 24)
})

function outcomeReason (outcome: { ok: true } | { ok: false, reason: string }): string | undefined {
  return outcome.ok ? undefined : outcome.reason
}
