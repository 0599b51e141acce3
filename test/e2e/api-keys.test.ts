// Caller identity on a real `roost up`, through the CLI: API keys made, listed
// and revoked (shown once, stored hashed, confined to a namespace token's
// namespace, gone with their function), and manifests whose auth refers to a
// Secret or a keys file. The gateway's enforcement has its own test.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { generateWebhookSecret } from '../../src/governance/index.js'
import { ok } from '../helpers/e2e.js'
import { TestPlatform, manifest, writeProject } from '../helpers/platform.js'
import { expectCliError } from '../helpers/problems.js'

const V1 = '/apis/roost.dev/v1'
const ecJwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'ec-1' }

let platform: TestPlatform
let dir: string
let teamToken: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({
    'hello.ts': "export default () => new Response('hello')\n",
    'hello.yaml': manifest('hello', 'source: ./hello.ts\nhttp: { auth: key }'),
    'team.yaml': manifest('billing', 'source: ./hello.ts\nhttp: { auth: key }', '  namespace: team-a\n'),
    'open.yaml': manifest('open', 'source: ./hello.ts'),
    'jwt.yaml': manifest('tokens', 'source: ./hello.ts\nhttp:\n  auth: { mode: jwt, issuer: "https://issuer.test", keysFile: ./keys/jwks.json }'),
    'keys/jwks.json': JSON.stringify({ keys: [ecJwk] }),
    'hooks.yaml': manifest('hooks', 'source: ./hello.ts\nhttp:\n  auth: { mode: hmac, secretRef: { name: signing }, tolerance: 2m }')
  })
  for (const file of ['hello.yaml', 'team.yaml', 'open.yaml']) ok(await platform.cli(['apply', '-f', join(dir, file)]), `apply ${file}`)
  teamToken = ok(await platform.cli(['token', 'create', '-n', 'team-a']), 'token create').trim()
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function keyIdOf (key: string): string {
  return key.slice(0, 15)
}

function assertNotInDatabase (text: string): void {
  for (const file of ['roost.db', 'roost.db-wal'].map((f) => join(platform.home, 'data', f))) {
    if (existsSync(file)) assert.equal(readFileSync(file).includes(text), false, `${file} holds the key`)
  }
}

test('key create prints the key once on stdout and what it made on stderr; list shows the id, never the key', async () => {
  const created = await platform.cli(['key', 'create', 'hello', '--name', 'ci', '--expires', '30d'])
  const key = ok(created, 'key create').trim()
  assert.match(key, /^rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
  const id = keyIdOf(key)
  assert.match(created.stderr, new RegExp(`^key ${id} for function/hello \\(default\\) created, expires \\d{4}-\\d\\d-\\d\\dT.*; it is shown this once\\n$`))

  const table = ok(await platform.cli(['key', 'list']), 'key list')
  assert.match(table, /^ID\s+NAMESPACE\s+FUNCTION\s+NAME\s+EXPIRES\s+AGE\n/)
  assert.match(table, new RegExp(`^${id}\\s+default\\s+hello\\s+ci\\s+in (29|30)d\\s+\\d+s$`, 'm'))
  const json = JSON.parse(ok(await platform.cli(['key', 'list', 'hello', '-o', 'json']), 'key list -o json')) as Array<Record<string, unknown>>
  assert.deepEqual(json.map((k) => [k.id, k.function, k.name, k.expired]), [[id, 'hello', 'ci', false]])
  for (const text of [table, JSON.stringify(json), ok(await platform.cli(['get', 'function', 'hello', '-o', 'yaml']), 'get')]) {
    assert.equal(text.includes(key.slice(16)), false, 'the secret part of the key is shown')
  }
  assertNotInDatabase(key.slice(16))
})

test('a key for a function without auth key comes with a warning; one for a missing function or with a bad lifetime is an error', async () => {
  const created = await platform.cli(['key', 'create', 'open'])
  ok(created, 'key create open')
  assert.match(created.stderr, /^warning: function open does not ask for keys yet \(its spec\.http\.auth is none\): set spec\.http\.auth: key and apply it$/m)
  expectCliError(await platform.cli(['key', 'create', 'nope']), /function nope not found in namespace default/)
  expectCliError(await platform.cli(['key', 'create', 'hello', '--expires', 'soon']), /expires: expected a lifetime from 1m to 3650d/)
  expectCliError(await platform.cli(['key', 'create']), /key create needs one FUNCTION/, 2)
})

test('a namespace token makes and lists the keys of its namespace only, and cannot revoke another\'s', async () => {
  const env = { ROOST_TOKEN: teamToken }
  const teamKey = ok(await platform.cli(['key', 'create', 'billing', '-n', 'team-a'], { env }), 'team key create').trim()
  expectCliError(await platform.cli(['key', 'create', 'hello'], { env }), /may act on namespace team-a only/)
  const all = JSON.parse(ok(await platform.cli(['key', 'list', '-A', '-o', 'json'], { env }), 'key list -A')) as Array<{ id: string, namespace: string }>
  assert.deepEqual(all.map((k) => [k.id, k.namespace]), [[keyIdOf(teamKey), 'team-a']])
  const adminKeys = JSON.parse(ok(await platform.cli(['key', 'list', '-A', '-o', 'json']), 'admin key list -A')) as Array<{ id: string, namespace: string }>
  assert.ok(adminKeys.some((k) => k.namespace === 'default') && adminKeys.some((k) => k.namespace === 'team-a'), JSON.stringify(adminKeys))
  const defaultKey = adminKeys.find((k) => k.namespace === 'default')?.id as string
  expectCliError(await platform.cli(['key', 'revoke', defaultKey], { env }), new RegExp(`API key ${defaultKey} not found`))
})

test('key revoke removes the key; a second revoke is an error', async () => {
  const id = keyIdOf(ok(await platform.cli(['key', 'create', 'hello']), 'key create').trim())
  assert.equal(ok(await platform.cli(['key', 'revoke', id]), 'key revoke'), `key/${id} revoked (function/hello)\n`)
  const left = JSON.parse(ok(await platform.cli(['key', 'list', 'hello', '-o', 'json']), 'key list')) as Array<{ id: string }>
  assert.equal(left.some((k) => k.id === id), false)
  expectCliError(await platform.cli(['key', 'revoke', id]), new RegExp(`API key ${id} not found`))
})

test('deleting a function deletes its keys', async () => {
  ok(await platform.cli(['apply', '-f', join(dir, 'open.yaml')]), 'apply')
  ok(await platform.cli(['key', 'create', 'open']), 'key create')
  ok(await platform.cli(['delete', 'function', 'open']), 'delete')
  assert.equal(ok(await platform.cli(['key', 'list', '-o', 'json']), 'key list').includes('"open"'), false)
})

test('a keys file beside the manifest is sent inline as jwks, and diff then sees nothing to change', async () => {
  ok(await platform.cli(['apply', '-f', join(dir, 'jwt.yaml')]), 'apply jwt.yaml')
  const response = await platform.api(`${V1}/namespaces/default/functions/tokens`)
  const fn = await response.json() as { spec: { http: { auth: unknown } } }
  assert.deepEqual(fn.spec.http.auth, { mode: 'jwt', clockSkew: '30s', issuer: 'https://issuer.test', jwks: { keys: [ecJwk] } })
  const diff = await platform.cli(['diff', '-f', join(dir, 'jwt.yaml')])
  assert.equal(diff.code, 0, `diff: ${diff.stdout}${diff.stderr}`)
})

test('an hmac auth needs its Secret on apply, which then cannot be deleted while the function uses it', async () => {
  expectCliError(await platform.cli(['apply', '-f', join(dir, 'hooks.yaml')]), /spec\.http\.auth\.secretRef: secret signing does not exist in this namespace/)
  ok(await platform.cli(['secret', 'create', 'signing', '--from-literal', 'PLAIN=not-a-signing-secret']), 'secret create')
  expectCliError(await platform.cli(['apply', '-f', join(dir, 'hooks.yaml')]), /secret signing key PLAIN: a signing secret starts with whsec_/)
  ok(await platform.cli(['secret', 'create', 'signing', '--overwrite', '--from-literal', `CURRENT=${generateWebhookSecret()}`]), 'secret overwrite')
  ok(await platform.cli(['apply', '-f', join(dir, 'hooks.yaml')]), 'apply hooks.yaml')
  expectCliError(await platform.cli(['secret', 'delete', 'signing']), /secret signing is used by function\(s\) hooks/)
  expectCliError(await platform.cli(['secret', 'create', 'signing', '--overwrite', '--from-literal', 'CURRENT=plain']), /function hooks authenticates callers with secret signing, which this change would break/)
  ok(await platform.cli(['secret', 'create', 'signing', '--overwrite', '--from-literal', `CURRENT=${generateWebhookSecret()}`, '--from-literal', `NEXT=${generateWebhookSecret()}`]), 'a rotation: a second signing secret')
})
