// Secrets on a real `roost up`: created from literals and a dotenv file, taken
// into a function's env by valueFrom and envFrom, never shown by the CLI or the
// API, absent from the database files, and rolled out losslessly when changed.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Load } from '../helpers/load.js'
import { TestPlatform, waitFor, writeProject } from '../helpers/platform.js'
import { expectCliError, expectProblem } from '../helpers/problems.js'

const V1 = '/apis/roost.dev/v1'
// Distinct, so that a leak of any one is found wherever it shows up.
const PASSWORD = 'pw-literal-7f3a9c01d2'
const API_KEY = 'key-from-file-5b8e2d44a1'
const NEW_PASSWORD = 'pw-rotated-c41d77e9b3'
const TEAM_VALUE = 'team-value-0e6f1a2b9c'
const HANDLER = 'export default () => Response.json({ password: process.env.DB_PASSWORD ?? null, apiKey: process.env.API_KEY ?? null, user: process.env.USER_NAME ?? null, mode: process.env.MODE ?? null })'

let platform: TestPlatform
let teamToken: string
let envFile: string

before(async () => {
  platform = await TestPlatform.start()
  const created = await platform.cli(['token', 'create', '-n', 'team-a'])
  assert.equal(created.code, 0, created.stderr)
  teamToken = created.stdout.trim()
  const dir = writeProject({ '.env': `# the database\nUSER_NAME=app\nAPI_KEY="${API_KEY}"\n` })
  envFile = join(dir, '.env')
})

after(async () => {
  await platform?.stop()
})

const secretRef = (name: string, key: string): unknown => ({ valueFrom: { secretKeyRef: { name, key } } })

async function apply (namespace: string, name: string, spec: Record<string, unknown>, token?: string): Promise<Response> {
  return await platform.api(`${V1}/namespaces/${namespace}/functions/${name}`, {
    token,
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name, namespace }, spec: { source: { inline: HANDLER }, ...spec } } })
  })
}

async function applied (response: Response): Promise<void> {
  assert.ok(response.status === 200 || response.status === 201, `${response.status}: ${await response.text()}`)
}

function assertHidden (text: string, where: string, values = [PASSWORD, API_KEY, NEW_PASSWORD, TEAM_VALUE]): void {
  for (const value of values) assert.equal(text.includes(value), false, `${where} shows a secret value (${value}):\n${text}`)
}

function assertNotInDatabase (values: string[]): void {
  const data = join(platform.home, 'data')
  for (const file of ['roost.db', 'roost.db-wal', 'roost.db-shm'].map((f) => join(data, f))) {
    if (!existsSync(file)) continue
    const raw = readFileSync(file)
    for (const value of values) assert.equal(raw.includes(value), false, `${file} holds ${value} in plain text`)
  }
}

/** What the handler answers once it is routed: the routing table follows an apply within moments. */
async function routedBody (path: string): Promise<Record<string, string | null>> {
  const response = await platform.fetch(path)
  const text = await response.text()
  return response.status === 200 ? JSON.parse(text) as Record<string, string | null> : { status: String(response.status), text }
}

async function bodyOf (path: string): Promise<Record<string, string | null>> {
  const response = await platform.fetch(path)
  const text = await response.text()
  assert.equal(response.status, 200, text)
  return JSON.parse(text) as Record<string, string | null>
}

test('a secret from literals and a dotenv file reaches the handler by valueFrom and envFrom, and is shown nowhere', async () => {
  const created = await platform.cli(['secret', 'create', 'db', '--from-literal', `PASSWORD=${PASSWORD}`, '--from-env-file', envFile])
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, /secret\/db created \(3 key\(s\)\)/)
  expectCliError(await platform.cli(['secret', 'create', 'db', '--from-literal', 'PASSWORD=x']), /secret db already exists/)

  await applied(await apply('default', 'reader', { env: { MODE: 'prod', DB_PASSWORD: secretRef('db', 'PASSWORD') }, envFrom: [{ secretRef: { name: 'db' } }] }))
  let seen: Record<string, string | null> = {}
  await waitFor(async () => (seen = await routedBody('/fn/reader')).password === PASSWORD, 20_000, () => `the handler saw ${JSON.stringify(seen)}`)
  assert.deepEqual(seen, { password: PASSWORD, apiKey: API_KEY, user: 'app', mode: 'prod' })

  const yaml = await platform.cli(['get', 'function', 'reader', '-o', 'yaml'])
  assert.equal(yaml.code, 0, yaml.stderr)
  assert.match(yaml.stdout, /secretKeyRef/)
  assert.match(yaml.stdout, /secretRef/)
  assertHidden(yaml.stdout, 'get -o yaml')
  const json = await platform.cli(['get', 'versions', 'reader', '-o', 'json'])
  assert.equal(json.code, 0, json.stderr)
  assertHidden(json.stdout, 'get versions -o json')
  const described = await platform.cli(['describe', 'reader'])
  assert.equal(described.code, 0, described.stderr)
  assertHidden(described.stdout, 'describe')
  const listed = await platform.cli(['secret', 'list'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.match(listed.stdout, /db\s+API_KEY,PASSWORD,USER_NAME\s+reader/)
  const got = await platform.cli(['get', 'secrets', '-o', 'yaml'])
  assert.equal(got.code, 0, got.stderr)
  assert.match(got.stdout, /PASSWORD/)
  assertHidden(listed.stdout + got.stdout, 'secret list / get secrets')

  // not to the admin either, on any route that names the secret or its function
  for (const path of ['/functions', '/namespaces/default/functions/reader', '/namespaces/default/functions/reader/versions', '/secrets', '/namespaces/default/secrets', '/namespaces/default/secrets/db', '/namespaces/default/events']) {
    const response = await platform.api(V1 + path)
    const text = await response.text()
    assert.equal(response.status, 200, `${path}: ${text}`)
    assertHidden(text, `GET ${path}`)
  }
  assertNotInDatabase([PASSWORD, API_KEY])
})

test('a reference to a missing secret or key is refused at apply, naming the field', async () => {
  const missingKey = await expectProblem(await apply('default', 'broken', { env: { DB_PASSWORD: secretRef('db', 'NOPE') } }), 422, 'ROOST_E_VALIDATION')
  assert.ok(missingKey.errors?.some((p) => p.field === 'spec.env.DB_PASSWORD.valueFrom.secretKeyRef' && /has no key NOPE/.test(p.message)), JSON.stringify(missingKey))
  const missingSecret = await expectProblem(await apply('default', 'broken', { envFrom: [{ secretRef: { name: 'absent' } }] }), 422, 'ROOST_E_VALIDATION')
  assert.ok(missingSecret.errors?.some((p) => p.field === 'spec.envFrom[0].secretRef'), JSON.stringify(missingSecret))
  await expectProblem(await platform.api(`${V1}/namespaces/default/functions/broken`), 404)
})

test('changing the secret makes a new version and the handler sees the new value with no failed request', async () => {
  const before = await (await platform.api(`${V1}/namespaces/default/functions/reader/versions`)).json() as { items: unknown[] }
  const load = new Load(`${platform.config.gateway}/fn/reader`)
  load.setCallers(4)
  try {
    await waitFor(() => load.total >= 20, 10_000, () => `the load made ${load.total} requests`)
    writeFileSync(envFile, `USER_NAME=app\nAPI_KEY='${API_KEY}'\n`)
    const changed = await platform.cli(['secret', 'create', 'db', '--overwrite', '--from-literal', `PASSWORD=${NEW_PASSWORD}`, '--from-env-file', envFile])
    assert.equal(changed.code, 0, changed.stderr)
    assert.match(changed.stdout, /secret\/db configured/)
    assert.match(changed.stdout, new RegExp(`function/reader v${before.items.length + 1} created`))
    await waitFor(() => [...load.outcome.bodies.keys()].some((body) => body.includes(NEW_PASSWORD)), 30_000, () => 'the handler never saw the new value')
    const seenAt = load.total
    await waitFor(() => load.total >= seenAt + 20, 10_000, () => 'the load stalled after the rollout')
  } finally {
    const outcome = await load.stop()
    assert.deepEqual(outcome.failures.slice(0, 5), [], `${outcome.failures.length} of ${outcome.ok + outcome.failures.length} requests failed during the rollout`)
  }
  assert.equal((await bodyOf('/fn/reader')).password, NEW_PASSWORD)
  const after = await (await platform.api(`${V1}/namespaces/default/functions/reader/versions`)).json() as { items: unknown[] }
  assert.equal(after.items.length, before.items.length + 1)
  const events = await (await platform.api(`${V1}/namespaces/default/functions/reader/events`)).json() as { items: Array<{ reason: string, message: string }> }
  assert.ok(events.items.some((e) => e.reason === 'SecretChanged' && /secret db changed/.test(e.message)), JSON.stringify(events.items))
  assertHidden(JSON.stringify(events.items), 'events')

  // the same values again change nothing
  const same = await platform.cli(['secret', 'create', 'db', '--overwrite', '--from-literal', `PASSWORD=${NEW_PASSWORD}`, '--from-env-file', envFile])
  assert.match(same.stdout, /secret\/db unchanged/)
  const still = await (await platform.api(`${V1}/namespaces/default/functions/reader/versions`)).json() as { items: unknown[] }
  assert.equal(still.items.length, after.items.length)
  // a change that drops a key the function uses is refused, not rolled out
  expectCliError(await platform.cli(['secret', 'create', 'db', '--overwrite', '--from-literal', 'USER_NAME=x']), /function reader uses spec\.env\.DB_PASSWORD\.valueFrom\.secretKeyRef/)
  assertNotInDatabase([PASSWORD, API_KEY, NEW_PASSWORD])
})

test('a secret in use cannot be deleted; once unused it can', async () => {
  expectCliError(await platform.cli(['secret', 'delete', 'db']), /secret db is used by function\(s\) reader/)
  await applied(await apply('default', 'reader', { env: { MODE: 'plain' } }))
  const deleted = await platform.cli(['secret', 'delete', 'db'])
  assert.equal(deleted.code, 0, deleted.stderr)
  await expectProblem(await platform.api(`${V1}/namespaces/default/secrets/db`), 404, 'ROOST_E_NOT_FOUND')
})

test('a namespace token manages its own secrets and can neither read nor use another namespace\'s', async () => {
  const put = await platform.api(`${V1}/namespaces/default/secrets/admin-only`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { PASSWORD } }) })
  assert.equal(put.status, 201, await put.text())
  const own = await platform.api(`${V1}/namespaces/team-a/secrets/team`, { token: teamToken, method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { VALUE: TEAM_VALUE } }) })
  assert.equal(own.status, 201, await own.text())

  await expectProblem(await platform.api(`${V1}/namespaces/default/secrets`, { token: teamToken }), 403, 'ROOST_E_FORBIDDEN')
  await expectProblem(await platform.api(`${V1}/namespaces/default/secrets/admin-only`, { token: teamToken }), 403, 'ROOST_E_FORBIDDEN')
  await expectProblem(await platform.api(`${V1}/namespaces/default/secrets/admin-only`, { token: teamToken, method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { PASSWORD: 'overwritten' } }) }), 403, 'ROOST_E_FORBIDDEN')
  await expectProblem(await platform.api(`${V1}/namespaces/default/secrets/admin-only`, { token: teamToken, method: 'DELETE' }), 403, 'ROOST_E_FORBIDDEN')
  const all = await (await platform.api(`${V1}/secrets`, { token: teamToken })).json() as { items: Array<{ metadata: { namespace: string, name: string } }> }
  assert.deepEqual(all.items.map((s) => `${s.metadata.namespace}/${s.metadata.name}`), ['team-a/team'])

  // a reference names a secret of the function's own namespace: default's is not found from team-a
  const refused = await expectProblem(await apply('team-a', 'thief', { env: { DB_PASSWORD: secretRef('admin-only', 'PASSWORD') } }, teamToken), 422, 'ROOST_E_VALIDATION')
  assert.ok(refused.errors?.some((p) => p.field === 'spec.env.DB_PASSWORD.valueFrom.secretKeyRef' && /does not exist/.test(p.message)), JSON.stringify(refused))
  await applied(await apply('team-a', 'teamfn', { env: { DB_PASSWORD: secretRef('team', 'VALUE') } }, teamToken))
  let seen: Record<string, string | null> = {}
  await waitFor(async () => (seen = await routedBody('/fn/teamfn.team-a')).password === TEAM_VALUE, 20_000, () => `the handler saw ${JSON.stringify(seen)}`)
  assertHidden(await (await platform.api(`${V1}/namespaces/team-a/secrets`, { token: teamToken })).text(), 'team list')
  assertNotInDatabase([PASSWORD, TEAM_VALUE])
})
