// What one tenant cannot take from another through the platform's files and
// routes, with a real `roost up`: env values sealed at rest, private file
// modes, paths owned by one namespace, reservations, a crowded API.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { TestPlatform, waitFor } from '../helpers/platform.js'
import { expectCliError, expectProblem } from '../helpers/problems.js'

const V1 = '/apis/roost.dev/v1'
const SECRET = 'tenant-secret-9c1e4f7a2b'

let platform: TestPlatform
let teamToken: string

before(async () => {
  platform = await TestPlatform.start()
  const created = await platform.cli(['token', 'create', '-n', 'team-a'])
  assert.equal(created.code, 0, created.stderr)
  teamToken = created.stdout.trim()
})

after(async () => {
  await platform?.stop()
})

/** Applies an inline function through the API as `token` (default: the admin). */
async function apply (namespace: string, name: string, spec: Record<string, unknown>, token?: string): Promise<Response> {
  return await platform.api(`${V1}/namespaces/${namespace}/functions/${name}`, {
    token,
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      manifest: {
        apiVersion: 'roost.dev/v1',
        kind: 'Function',
        metadata: { name, namespace },
        spec: { source: { inline: `export default () => new Response(${JSON.stringify(`${namespace}/${name}`)})` }, ...spec }
      }
    })
  })
}

async function applied (response: Response): Promise<void> {
  assert.ok(response.status === 200 || response.status === 201, `${response.status}: ${await response.text()}`)
}

function mode (path: string): number {
  return statSync(path).mode & 0o777
}

test('an env value reaches the instance and the API, and is in none of the database files', async () => {
  const response = await platform.api(`${V1}/namespaces/default/functions/with-secret`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      manifest: {
        apiVersion: 'roost.dev/v1',
        kind: 'Function',
        metadata: { name: 'with-secret' },
        spec: { source: { inline: 'export default () => new Response(process.env.DB_PASSWORD)' }, env: { DB_PASSWORD: SECRET } }
      }
    })
  })
  await applied(response)
  const answer = await platform.fetch('/fn/with-secret')
  assert.equal(await answer.text(), SECRET, 'the instance gets the plain value')
  const view = await (await platform.api(`${V1}/namespaces/default/functions/with-secret`)).json() as { spec: { env: Record<string, string> } }
  assert.deepEqual(view.spec.env, { DB_PASSWORD: SECRET }, 'an authorized caller reads the value as applied')
  const versions = await (await platform.api(`${V1}/namespaces/default/functions/with-secret/versions`)).json() as { items: Array<{ config: { env: Record<string, string> } }> }
  assert.deepEqual(versions.items[0].config.env, { DB_PASSWORD: SECRET })

  const data = join(platform.home, 'data')
  const files = ['roost.db', 'roost.db-wal', 'roost.db-shm'].map((f) => join(data, f))
  for (const file of files) {
    assert.ok(existsSync(file), `${file} exists while the platform runs`)
    assert.equal(readFileSync(file).includes(SECRET), false, `${file} holds the env value in plain text`)
  }
})

test('the home, the database and its WAL, the log, the config and the data key are the platform user\'s only', () => {
  const data = join(platform.home, 'data')
  assert.equal(mode(platform.home), 0o700)
  assert.equal(mode(data), 0o700)
  for (const file of [join(data, 'roost.db'), join(data, 'roost.db-wal'), join(data, 'roost.db-shm'), join(platform.home, 'roost.log'), join(platform.home, 'config')]) {
    assert.equal(mode(file), 0o600, `${file} is 0${mode(file).toString(8)}`)
  }
  assert.equal(mode(join(data, 'blobs')), 0o700)
  const key = [join(platform.home, 'keys', 'data.key'), join(data, 'keys', 'data.key')].find((file) => existsSync(file))
  assert.ok(key !== undefined, 'the data key exists')
  assert.equal(mode(key), 0o600)
})

test('a path under another namespace\'s path is refused with 409 naming the owner; so is one above it', async () => {
  await applied(await apply('default', 'hello', { http: { path: '/hello' } }))
  const under = await expectProblem(await apply('team-a', 'login', { http: { path: '/hello/login' } }, teamToken), 409, 'ROOST_E_CONFLICT')
  assert.equal(under.field, 'spec.http.path')
  assert.match(under.detail, /\/hello\/login is under \/hello, routed to function hello in namespace default/)

  await applied(await apply('team-a', 'cart', { http: { path: '/shop/cart' } }, teamToken))
  const above = await expectProblem(await apply('default', 'shop', { http: { path: '/shop' } }), 409, 'ROOST_E_CONFLICT')
  assert.match(above.detail, /\/shop is above \/shop\/cart, routed to function cart in namespace team-a/)

  // by whole segments: /hellox is not under /hello
  await applied(await apply('team-a', 'hellox', { http: { path: '/hellox' } }, teamToken))
  // within a namespace, nesting is the owner's choice
  await applied(await apply('default', 'hello-login', { http: { path: '/hello/login' } }))
  // the routing table follows an apply within moments
  let seen = ''
  await waitFor(async () => (seen = await (await platform.fetch('/hello/login')).text()) === 'default/hello-login', 15_000, () => `/hello/login answered ${seen}`)
  await waitFor(async () => (seen = await (await platform.fetch('/hellox')).text()) === 'team-a/hellox', 15_000, () => `/hellox answered ${seen}`)
})

test('the admin reserves a prefix for a namespace; others cannot route at, under or above it; a namespace token cannot reserve', async () => {
  const reserved = await platform.cli(['reserve', '/team-a', '-n', 'team-a'])
  assert.equal(reserved.code, 0, reserved.stderr)
  assert.match(reserved.stdout, /\/team-a reserved for namespace team-a/)

  const squat = await expectProblem(await apply('default', 'squat', { http: { path: '/team-a/admin' } }), 409, 'ROOST_E_CONFLICT')
  assert.match(squat.detail, /\/team-a\/admin is under \/team-a, reserved for namespace team-a/)
  await applied(await apply('team-a', 'admin', { http: { path: '/team-a/admin' } }, teamToken))
  await applied(await apply('default', 'beside', { http: { path: '/team-ab' } }))

  const listed = await platform.cli(['reserve', '--list'], { env: { ROOST_TOKEN: teamToken } })
  assert.equal(listed.code, 0, listed.stderr)
  assert.match(listed.stdout, /\/team-a\s+team-a/)

  const asTeam = await platform.cli(['reserve', '/team-a-more', '-n', 'team-a'], { env: { ROOST_TOKEN: teamToken } })
  expectCliError(asTeam, /only the admin token may do this/)
  await expectProblem(await platform.api(`${V1}/route-reservations`, {
    token: teamToken,
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prefix: '/anything', namespace: 'team-a' })
  }), 403, 'ROOST_E_FORBIDDEN')
  await expectProblem(await platform.api(`${V1}/route-reservations?prefix=/team-a`, { token: teamToken, method: 'DELETE' }), 403, 'ROOST_E_FORBIDDEN')

  // a prefix another namespace already routes cannot be reserved
  const taken = await platform.cli(['reserve', '/hello', '-n', 'team-a'])
  expectCliError(taken, /overlaps \/hello, routed to function hello in namespace default/)

  expectCliError(await platform.cli(['reserve', '/x']), /reserve PREFIX needs -n NAMESPACE/, 2)
  expectCliError(await platform.cli(['reserve', '--delete', '/nothing-here']), /no reservation of \/nothing-here/)

  const released = await platform.cli(['reserve', '--delete', '/team-a'])
  assert.equal(released.code, 0, released.stderr)
  const empty = await platform.cli(['reserve', '--list'])
  assert.doesNotMatch(empty.stdout, /\/team-a\s/)
})

test('50 slow connections trickling a body do not keep the admin from the API', async () => {
  const port = Number(new URL(platform.config.api).port)
  const sockets: Socket[] = []
  const trickle = setInterval(() => { for (const socket of sockets) if (!socket.destroyed) socket.write(' ') }, 200)
  try {
    for (let i = 0; i < 50; i++) {
      const socket = connect({ host: '127.0.0.1', port })
      socket.on('error', () => {})
      socket.write(`PUT ${V1}/namespaces/default/functions/slow HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`)
      sockets.push(socket)
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    const listed = await platform.cli(['get', 'functions'])
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /with-secret/)
    assert.equal(sockets.filter((s) => s.destroyed).length, 0, 'the slow connections were open all along')
  } finally {
    clearInterval(trickle)
    for (const socket of sockets) socket.destroy()
  }
})
