// A hostile tenant cannot make the platform dial what it likes: with a
// namespace token, a queue trigger may name only the brokers the operator
// allowed with `roost up --allow-broker`; the admin token may name any, and a
// tenant re-applying what the admin set is no new claim.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from 'redis'
import { TestPlatform, manifest, writeProject } from '../helpers/platform.js'
import { expectCliError } from '../helpers/problems.js'

const RUN = `roost-e2e-allow-${randomBytes(4).toString('hex')}`
const SINK = 'export default { async queue () {} }\n'

let platform: TestPlatform
let project: string
let teamToken: string

function consumer (name: string, url: string, fields: string): string {
  return manifest(name, `source: ./sink.ts\ntriggers:\n  - queue: { name: ${name}, connector: ${fields}, url: ${JSON.stringify(url)} }`, '  namespace: team-a\n')
}

before(async () => {
  platform = await TestPlatform.start({ args: ['--allow-broker', 'redis://127.0.0.1:6379'] })
  project = writeProject({
    'sink.ts': SINK,
    'allowed.yaml': consumer('allowed', 'redis://127.0.0.1:6379', `redis, stream: ${RUN}-a, group: g`),
    'other-port.yaml': consumer('other-port', 'redis://127.0.0.1:6380', `redis, stream: ${RUN}-b, group: g`),
    'by-name.yaml': consumer('by-name', 'redis://localhost:6379', `redis, stream: ${RUN}-c, group: g`),
    'nats.yaml': consumer('nats-one', 'nats://127.0.0.1:4222', `nats, stream: ${RUN}-d, subject: ${RUN}.d, consumer: c`)
  })
  const created = await platform.cli(['token', 'create', '-n', 'team-a'])
  assert.equal(created.code, 0, created.stderr)
  teamToken = created.stdout.trim()
})

after(async () => {
  await platform?.stop()
  if (project !== undefined) rmSync(project, { recursive: true, force: true })
  const redis = createClient({ url: 'redis://127.0.0.1:6379' })
  redis.on('error', () => {})
  await redis.connect()
  await redis.del([`${RUN}-a`, `${RUN}-c`])
  await redis.close()
})

function asTeamA (args: string[]): ReturnType<TestPlatform['cli']> {
  return platform.cli(args, { env: { ROOST_TOKEN: teamToken } })
}

test('a namespace token may name an allowed broker', async () => {
  const applied = await asTeamA(['apply', '-f', join(project, 'allowed.yaml')])
  assert.equal(applied.code, 0, applied.stderr)
})

test('a namespace token may not name another broker, port or host name: 403 at the field, nothing stored', async () => {
  for (const [file, name] of [['other-port.yaml', 'other-port'], ['by-name.yaml', 'by-name'], ['nats.yaml', 'nats-one']]) {
    const { hint } = expectCliError(await asTeamA(['apply', '-f', join(project, file)]), /\.yaml:9:\d+: a namespace token may not point a trigger at/)
    assert.match(hint, /--allow-broker/)
    const response = await platform.api(`/apis/roost.dev/v1/namespaces/team-a/functions/${name}`)
    assert.equal(response.status, 404, `${name} was not stored`)
    await response.body?.cancel()
  }
  // The API's answer is a problem naming the field.
  const put = await platform.api('/apis/roost.dev/v1/namespaces/team-a/functions/raw', {
    token: teamToken,
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'raw', namespace: 'team-a' }, spec: { source: { inline: SINK }, triggers: [{ queue: { name: 'raw', connector: 'redis', url: 'redis://10.1.2.3:6379', stream: 's', group: 'g' } }] } } })
  })
  assert.equal(put.status, 403)
  assert.match(put.headers.get('content-type') ?? '', /^application\/problem\+json/)
  const problem = await put.json() as { code: string, field?: string }
  assert.equal(problem.code, 'ROOST_E_FORBIDDEN')
  assert.equal(problem.field, 'spec.triggers[0].queue.url')
})

test('the admin token may name any broker, and the tenant may then re-apply that function as it is', async () => {
  const byAdmin = await platform.cli(['apply', '-f', join(project, 'by-name.yaml')])
  assert.equal(byAdmin.code, 0, byAdmin.stderr)
  const again = await asTeamA(['apply', '-f', join(project, 'by-name.yaml')])
  assert.equal(again.code, 0, again.stderr)
  assert.match(again.stdout, /unchanged/)
})
