// The JSON Schema editors use rejects what the platform rejects, wherever JSON
// Schema can say it: each bad manifest below fails validateFunction and the
// committed schema/function.schema.json (ajv in 2020-12 mode, as an editor's
// second validator would read it); each good one passes both.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { validateFunction } from '../../src/api/index.js'
import { integerRangePattern, quantityRangePattern } from '../../src/api/range-pattern.js'

const committed = JSON.parse(readFileSync(new URL('../../../schema/function.schema.json', import.meta.url), 'utf8')) as object
const editor = new Ajv2020({ allErrors: true, strict: false }).compile(committed)

const manifest = (spec: Record<string, unknown>): object => ({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: { source: './f.ts', ...spec } })
const schedule = (entry: Record<string, unknown>): Record<string, unknown> => ({ scale: { schedule: [{ cron: '0 9 * * 1-5', min: 1, until: '18:00', ...entry }] } })

const BAD: Array<[string, Record<string, unknown>]> = [
  ['timeout below 100ms', { timeout: '99ms' }],
  ['timeout of 0s', { timeout: '0s' }],
  ['timeout above 15m', { timeout: '16m' }],
  ['timeout of 901s', { timeout: '901s' }],
  ['timeout of 1h', { timeout: '1h' }],
  ['memory below 16Mi', { memory: '15Mi' }],
  ['memory above 8Gi', { memory: '9Gi' }],
  ['memory of 8193Mi', { memory: '8193Mi' }],
  ['window: 0s', { scale: { window: '0s' } }],
  ['window below 6s', { scale: { window: '5999ms' } }],
  ['scaleDownDelay: 0s', { scale: { scaleDownDelay: '0s' } }],
  ['scaleDownDelay below 1s', { scale: { scaleDownDelay: '999ms' } }],
  ['a ROOST_ env name', { env: { ROOST_PORT: '1' } }],
  ['http.path /fn', { http: { path: '/fn' } }],
  ['http.path under /fn/', { http: { path: '/fn/other' } }],
  ['http.path /healthz', { http: { path: '/healthz' } }],
  ['http.path /metrics', { http: { path: '/metrics' } }],
  ['http.path with ..', { http: { path: '/a/../b' } }],
  ['min above the default max', { scale: { min: 11 } }],
  ['a scheduled floor above the default max', schedule({ min: 11 })],
  ['metrics with metric', { scale: { metric: 'rps', metrics: [{ metric: 'concurrency', target: 5 }] } }],
  ['metrics with target', { scale: { target: 3, metrics: [{ metric: 'concurrency', target: 5 }] } }],
  ['a metric listed twice', { scale: { metrics: [{ metric: 'rps', target: 5 }, { metric: 'rps', target: 9 }] } }],
  ['a cron of four fields', schedule({ cron: '0 9 * *' })],
  ['a cron of six fields', schedule({ cron: '0 0 9 * * 1-5' })],
  ['a cron with a stray character', schedule({ cron: '0 9 * * 1-5!' })],
  ['a time zone with a space', schedule({ timezone: 'Europe Paris' })],
  ['a time zone as an offset', schedule({ timezone: '+02:00' })],
  ['auth hmac as a bare name', { http: { auth: 'hmac' } }],
  ['auth jwt as a bare name', { http: { auth: 'jwt' } }],
  ['auth hmac without secretRef', { http: { auth: { mode: 'hmac' } } }],
  ['auth jwt without keys', { http: { auth: { mode: 'jwt', issuer: 'https://issuer.test' } } }],
  ['auth key with a tolerance', { http: { auth: { mode: 'key', tolerance: '5m' } } }],
  ['auth hmac with an issuer', { http: { auth: { mode: 'hmac', secretRef: { name: 'h' }, issuer: 'i' } } }],
  ['auth jwt with a secretRef of hmac', { http: { auth: { mode: 'jwt', keysFile: 'k.json', secretRef: { name: 'h' } } } }],
  ['auth tolerance above 1h', { http: { auth: { mode: 'hmac', secretRef: { name: 'h' }, tolerance: '61m' } } }],
  ['auth tolerance below 1s', { http: { auth: { mode: 'hmac', secretRef: { name: 'h' }, tolerance: '999ms' } } }],
  ['auth clockSkew above 10m', { http: { auth: { mode: 'jwt', keysFile: 'k.json', clockSkew: '601s' } } }],
  ['auth replayCacheSize below 100', { http: { auth: { mode: 'hmac', secretRef: { name: 'h' }, replayCacheSize: 99 } } }],
  ['a jwt key with two sources', { http: { auth: { mode: 'jwt', keys: [{ pem: '-----BEGIN PUBLIC KEY-----', secretRef: { name: 's', key: 'K' } }] } } }],
  ['a jwt key with none', { http: { auth: { mode: 'jwt', keys: [{ kid: 'k' }] } } }],
  ['an HS256 key inline', { http: { auth: { mode: 'jwt', keys: [{ alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } }] } } }],
  ['a secretRef key of RS256', { http: { auth: { mode: 'jwt', keys: [{ alg: 'RS256', secretRef: { name: 's', key: 'K' } }] } } }]
]

const GOOD: Array<[string, Record<string, unknown>]> = [
  ['defaults', {}],
  ['timeout at the bounds', { timeout: '100ms' }],
  ['timeout of 15m', { timeout: '15m' }],
  ['timeout of 900s', { timeout: '900s' }],
  ['timeout of 900000ms', { timeout: '900000ms' }],
  ['timeout with a leading zero', { timeout: '030s' }],
  ['memory of 16Mi', { memory: '16Mi' }],
  ['memory of 8Gi', { memory: '8Gi' }],
  ['memory of 8192Mi', { memory: '8192Mi' }],
  ['memory of 1Gi', { memory: '1Gi' }],
  ['window of 6s', { scale: { window: '6s' } }],
  ['window of 6000ms', { scale: { window: '6000ms' } }],
  ['window of 2h', { scale: { window: '2h' } }],
  ['window of 100000s', { scale: { window: '100000s' } }],
  ['scaleDownDelay of 1s', { scale: { scaleDownDelay: '1s' } }],
  ['an env name with ROOST inside', { env: { MY_ROOST_: '1', ROOSTER: '2' } }],
  ['http.path /fnord', { http: { path: '/fnord' } }],
  ['http.path /api/v1.2', { http: { path: '/api/v1.2' } }],
  ['min up to a given max', { scale: { min: 20, max: 30 } }],
  ['min at the default max', { scale: { min: 10 } }],
  ['a scheduled floor under a given max', { scale: { max: 30, schedule: [{ cron: '0 9 * * 1-5', min: 25, until: '18:00' }] } }],
  ['two metrics', { scale: { metrics: [{ metric: 'rps', target: 5 }, { metric: 'concurrency', target: 9 }] } }],
  ['a cron with names and steps', schedule({ cron: '*/15 9-17 * JAN-MAR MON-FRI' })],
  ['a cron with L and #', schedule({ cron: '0 0 L * ?' })],
  ['auth key', { http: { auth: 'key' } }],
  ['auth private as a mapping', { http: { auth: { mode: 'private' } } }],
  ['auth hmac with a Secret and a tolerance', { http: { auth: { mode: 'hmac', secretRef: { name: 'h', key: 'CURRENT' }, tolerance: '1h', replayCacheSize: 100 } } }],
  ['auth jwt with a keys file and no skew', { http: { auth: { mode: 'jwt', keysFile: './jwks.json', clockSkew: '0s', issuer: 'https://issuer.test', audience: 'orders' } } }],
  ['auth jwt with an HS256 secret', { http: { auth: { mode: 'jwt', keys: [{ kid: 'h', alg: 'HS256', secretRef: { name: 's', key: 'K' } }], clockSkew: '10m' } } }],
  ['time zones', { scale: { schedule: ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'EST5EDT'].map((timezone) => ({ cron: '0 9 * * *', min: 1, until: '10:00', timezone })) } }]
]

test('every bad manifest is rejected by the platform and by the JSON Schema', () => {
  for (const [what, spec] of BAD) {
    assert.throws(() => validateFunction(manifest(spec)), { code: 'ROOST_E_VALIDATION' }, `the platform accepts ${what}`)
    assert.equal(editor(manifest(spec)), false, `the JSON Schema accepts ${what}`)
  }
})

test('every good manifest passes the platform and the JSON Schema', () => {
  for (const [what, spec] of GOOD) {
    validateFunction(manifest(spec))
    assert.equal(editor(manifest(spec)), true, `the JSON Schema rejects ${what}: ${JSON.stringify(editor.errors)}`)
  }
})

test('an integer range pattern matches exactly the integers of its range', () => {
  for (const [lo, hi] of [[0, 9], [1, 1], [7, 93], [16, 8192], [100, 900000], [6, Infinity], [1000, Infinity], [19, 20], [10, 99], [123, 4567]] as const) {
    const re = new RegExp(`^${integerRangePattern(lo, hi)}$`)
    for (let n = 0; n <= 20_000; n++) assert.equal(re.test(String(n)), n >= lo && n <= hi, `${n} against [${lo}, ${hi}]`)
    for (const n of [900000, 900001, 1_000_000, 12_345_678]) assert.equal(re.test(String(n)), n >= lo && n <= hi, `${n} against [${lo}, ${hi}]`)
    assert.equal(re.test(`00${lo}`), true, 'leading zeros read as the number')
  }
})

test('a quantity range pattern takes each unit within the bounds', () => {
  const re = new RegExp(quantityRangePattern({ ms: 1, s: 1000, m: 60_000 }, 1500, 120_000))
  for (const ok of ['1500ms', '2s', '120s', '2m', '120000ms']) assert.match(ok, re)
  for (const bad of ['1499ms', '1s', '121s', '3m', '1h', 's', '2', '-2s']) assert.doesNotMatch(bad, re)
})
