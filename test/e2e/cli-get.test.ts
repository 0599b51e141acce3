// `roost get` and `describe` as a kubectl user reads them (issue 10, item 14),
// and namespaces and tokens as objects (item 16), on a real platform.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { ok, spawnCli, text } from '../helpers/e2e.js'
import { expectCliError } from '../helpers/problems.js'

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({
    'hello.ts': "export default () => new Response('hello')\n",
    'web.yaml': manifest('web', 'source: ./hello.ts', '  labels: { app: web, tier: front }\n'),
    'api.yaml': manifest('api', 'source: ./hello.ts', '  labels: { app: api, tier: back }\n'),
    'plain.yaml': manifest('plain', 'source: ./hello.ts'),
    'team.yaml': manifest('in-team', 'source: ./hello.ts', '  namespace: team-b\n  labels: { app: web }\n'),
    'watched.yaml': manifest('watched', 'source: ./hello.ts')
  })
  for (const file of ['web.yaml', 'api.yaml', 'plain.yaml', 'team.yaml']) ok(await platform.cli(['apply', '-f', join(dir, file)]), `apply ${file}`)
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function get (args: string[]): Promise<string> {
  return ok(await platform.cli(['get', ...args]), `roost get ${args.join(' ')}`)
}

function firstColumn (table: string): string[] {
  return table.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0])
}

test('get functions NAME shows that function only; -o json of one NAME is the object itself', async () => {
  assert.deepEqual(firstColumn(await get(['functions', 'web'])), ['web'])
  assert.deepEqual(firstColumn(await get(['functions', 'web', 'api'])), ['web', 'api'])
  const one = JSON.parse(await get(['functions', 'web', '-o', 'json'])) as { kind: string, metadata: { name: string } }
  assert.equal(one.kind, 'Function')
  assert.equal(one.metadata.name, 'web')
  const yaml = parseYaml(await get(['fn', 'api', '-o', 'yaml'])) as { metadata: { labels: Record<string, string> } }
  assert.deepEqual(yaml.metadata.labels, { app: 'api', tier: 'back' })
})

test('get functions NAME of a function that does not exist fails with a hint', async () => {
  expectCliError(await platform.cli(['get', 'functions', 'nope']), /function nope not found in namespace default/)
})

test('-o name prints kind/name, -o wide adds columns, -o jsonpath renders kubectl templates', async () => {
  assert.deepEqual((await get(['functions', '-o', 'name'])).trim().split('\n'), ['function/api', 'function/plain', 'function/web'])
  const wide = await get(['functions', 'web', '-o', 'wide'])
  assert.match(wide.split('\n')[0], /^NAME\s+NAMESPACE\s+LATEST\s+TRAFFIC\s+READY\s+AGE\s+SERVING\s+ROUTES\s+SCALE\s+LABELS$/)
  assert.match(wide.split('\n')[1], /\/fn\/web,\/fn\/web\.default\s+0-10\s+app=web,tier=front$/)
  assert.equal(await get(['functions', '-o', 'jsonpath={.items[*].metadata.name}']), 'api plain web')
  assert.equal(await get(['functions', 'web', '-o', 'jsonpath={.metadata.labels.app}']), 'web')
  assert.equal(await get(['functions', '-o', 'jsonpath={range .items[*]}{.metadata.name}:{.status.latestVersion}{"\\n"}{end}']), 'api:1\nplain:1\nweb:1\n')
  assert.equal(await get(['namespaces', '-o', 'jsonpath={.items[*].metadata.name}']), 'default team-b')
})

test('-l selects by labels: equality, inequality, sets, existence, comma as and', async () => {
  const names = async (selector: string, extra: string[] = []): Promise<string> => await get(['functions', '-l', selector, ...extra, '-o', 'jsonpath={.items[*].metadata.name}'])
  assert.equal(await names('app=web'), 'web')
  assert.equal(await names('app!=web'), 'api plain')
  assert.equal(await names('tier in (front,back)'), 'api web')
  assert.equal(await names('tier notin (front)'), 'api plain')
  assert.equal(await names('tier'), 'api web')
  assert.equal(await names('!tier'), 'plain')
  assert.equal(await names('tier=front,app=web'), 'web')
  assert.equal(await names('tier=front,app=api'), '')
  assert.equal(await names('app=web', ['-A']), 'web in-team', 'ordered by namespace, then name')
  expectCliError(await platform.cli(['get', 'functions', '-l', 'app in ()']), /label selector "app in \(\)"/, 2)
  expectCliError(await platform.cli(['get', 'instances', '-l', 'app=web']), /-l selects by labels/, 2)
})

test('-n picks a namespace and -A lists every one, with a NAMESPACE column', async () => {
  assert.deepEqual(firstColumn(await get(['functions', '-n', 'team-b'])), ['in-team'])
  const all = await get(['functions', '-A'])
  assert.match(all, /^in-team\s+team-b\s/m)
  assert.match(all, /^web\s+default\s/m)
})

test('get events lists what happened in a namespace, -A in all of them', async () => {
  const events = await get(['events'])
  assert.match(events.split('\n')[0], /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/)
  assert.match(events, /Normal\s+VersionCreated\s+function\/web\s+v1 created/)
  assert.doesNotMatch(events, /function\/in-team/)
  const all = await get(['events', '-A'])
  assert.match(all, /^team-b\s+\S+\s+Normal\s+VersionCreated\s+function\/in-team/m)
  const json = JSON.parse(await get(['events', 'api', '-o', 'json'])) as Array<{ name: string, reason: string }>
  assert.ok(json.length > 0 && json.every((event) => event.name === 'api'), JSON.stringify(json))
})

test('get functions -w prints the list, then each change as it happens, until interrupted', async () => {
  const watch = spawnCli(platform.home, ['get', 'functions', '-w', '-l', '!tier'])
  try {
    await waitFor(() => /^plain\s+default\s+v1\s/m.test(watch.stdout), 10_000, () => `no initial row: ${watch.stdout}${watch.stderr}`)
    assert.match(watch.stdout.split('\n')[0], /^NAME\s+NAMESPACE\s+LATEST/)
    ok(await platform.cli(['apply', '-f', join(dir, 'watched.yaml')]), 'apply watched')
    await waitFor(() => /^watched\s+default\s+v1\s/m.test(watch.stdout), 10_000, () => `the new function did not show: ${watch.stdout}`)
    // A function the selector leaves out never shows.
    assert.doesNotMatch(watch.stdout, /^web\s/m)
    assert.equal(watch.running, true, `the watch ended: ${watch.stderr}`)
  } finally {
    await watch.kill()
  }
  const json = spawnCli(platform.home, ['get', 'functions', 'watched', '-w', '-o', 'json'])
  try {
    await waitFor(() => json.stdout.includes('\n'), 10_000, () => `no JSON line: ${json.stdout}${json.stderr}`)
    ok(await platform.cli(['delete', 'function', 'watched']), 'delete watched')
    await waitFor(() => json.stdout.trim().split('\n').length >= 2, 10_000, () => `no line after the delete: ${json.stdout}`)
    const lines = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { metadata: { name: string } })
    assert.ok(lines.every((fn) => fn.metadata.name === 'watched'), json.stdout)
  } finally {
    await json.kill()
  }
  expectCliError(await platform.cli(['get', 'instances', '-w']), /-w watches functions only/, 2)
})

test('describe takes NAME without a kind, and -o json gives the function with its versions, instances and events', async () => {
  const described = ok(await platform.cli(['describe', 'web']), 'describe web')
  assert.match(described, /^Name:\s+web$/m)
  assert.deepEqual(ok(await platform.cli(['describe', 'function', 'web'])).split('\n').slice(0, 3), described.split('\n').slice(0, 3))
  expectCliError(await platform.cli(['describe', 'web', 'api']), /describe takes one name/, 2)
  const json = JSON.parse(ok(await platform.cli(['describe', 'web', '-o', 'json']))) as { function: { metadata: { name: string } }, versions: Array<{ number: number }>, instances: unknown[], events: Array<{ reason: string }> }
  assert.equal(json.function.metadata.name, 'web')
  assert.deepEqual(json.versions.map((v) => v.number), [1])
  assert.ok(Array.isArray(json.instances))
  assert.ok(json.events.some((e) => e.reason === 'VersionCreated'), JSON.stringify(json.events))
  expectCliError(await platform.cli(['describe', 'in-team', '-n', 'default']), /function in-team not found/)
  assert.match(ok(await platform.cli(['describe', 'in-team', '-n', 'team-b'])), /^Namespace:\s+team-b$/m)
})

test('namespaces are objects: created empty, listed, refused on delete while they hold functions unless --force', async () => {
  assert.equal(ok(await platform.cli(['create', 'namespace', 'team-c', '--label', 'owner=c'])), 'namespace/team-c created\n')
  expectCliError(await platform.cli(['create', 'namespace', 'team-c']), /namespace team-c already exists/)
  expectCliError(await platform.cli(['create', 'namespace', 'Bad_Name']), /not a valid metadata\.name/)
  const listed = await get(['namespaces'])
  assert.deepEqual(firstColumn(listed), ['default', 'team-b', 'team-c'])
  assert.match(listed, /^team-c\s+Active\s+\d+s$/m)
  assert.equal(await get(['ns', '-l', 'owner=c', '-o', 'name']), 'namespace/team-c\n')
  const wide = await get(['namespaces', 'team-b', '-o', 'wide'])
  assert.match(wide, /^team-b\s+Active\s+\S+\s+1\s+0\s+0\s+<none>$/m)

  ok(await platform.cli(['apply', '-n', 'team-c', '-f', join(dir, 'plain.yaml')]), 'apply -n team-c')
  assert.equal(await text(platform, '/fn/plain.team-c'), 'hello')
  expectCliError(await platform.cli(['apply', '-n', 'team-c', '-f', join(dir, 'team.yaml')]), /says namespace team-b, but -n says team-c/, 2)

  const refused = expectCliError(await platform.cli(['delete', 'namespace', 'team-c']), /namespace team-c holds 1 function\(s\): plain/)
  assert.match(refused.hint, /--force/)
  assert.equal(await text(platform, '/fn/plain.team-c'), 'hello', 'a refused delete deleted nothing')
  assert.equal(ok(await platform.cli(['delete', 'namespace', 'team-c', '--force'])), 'namespace/team-c deleted (with 1 function(s): plain)\n')
  await waitFor(async () => (await platform.fetch('/fn/plain.team-c')).status === 404, 10_000, () => 'the function of a deleted namespace still answers')
  assert.deepEqual(firstColumn(await get(['namespaces'])), ['default', 'team-b'])
  expectCliError(await platform.cli(['delete', 'namespace', 'team-c']), /namespace team-c not found/)
  expectCliError(await platform.cli(['delete', 'namespace', 'default']), /default cannot be deleted/)
})

test('tokens per namespace: created, listed without their secret, revoked; a namespace token sees only its own', async () => {
  ok(await platform.cli(['create', 'namespace', 'team-d']), 'create namespace team-d')
  const token = ok(await platform.cli(['token', 'create', '-n', 'team-d', '--description', 'ci of d'])).trim()
  const other = ok(await platform.cli(['token', 'create', '-n', 'team-b'])).trim()
  const asD = async (args: string[]): ReturnType<TestPlatform['cli']> => await platform.cli(args, { env: { ROOST_TOKEN: token } })

  const listed = ok(await platform.cli(['token', 'list']))
  assert.match(listed.split('\n')[0], /^CURRENT\s+ID\s+NAMESPACE\s+DESCRIPTION\s+AGE$/)
  assert.match(listed, /^\*\s+tok_\w+\s+\* \(admin\)\s+admin token written by roost up/m)
  assert.match(listed, /^\s*tok_\w+\s+team-d\s+ci of d\s/m)
  assert.ok(!listed.includes(token) && !listed.includes(other), 'token list printed a secret')

  const own = JSON.parse(ok(await asD(['token', 'list', '-o', 'json']))) as Array<{ id: string, namespace: string, current: boolean }>
  assert.deepEqual(own.map((t) => [t.namespace, t.current]), [['team-d', true]], 'a namespace token sees its own tokens only')
  expectCliError(await asD(['token', 'list', '-n', 'team-b']), /may act on namespace team-d only/)
  assert.deepEqual(firstColumn(ok(await asD(['get', 'namespaces']))), ['team-d'])
  // Its watch of every namespace shows its own namespace only.
  // The answer starts at once, though the namespace is empty (not with the heartbeat 15 s later).
  const watch = await Promise.race([
    platform.api('/apis/roost.dev/v1/watch/functions', { token }),
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('the watch sent no headers within 5 s')), 5_000).unref())
  ])
  assert.equal(watch.headers.get('content-type'), 'application/x-ndjson')
  const reader = (watch.body as ReadableStream<Uint8Array>).getReader()
  ok(await platform.cli(['apply', '-n', 'team-d', '-f', join(dir, 'plain.yaml')]), 'apply into team-d')
  // The headers came before any line (the namespace was empty); the first line is the new function.
  let seen = ''
  while (!/\S\n/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value)
  await reader.cancel()
  const first = JSON.parse(seen.trim().split('\n')[0]) as { type: string, object: { metadata: { namespace: string, name: string } } }
  assert.deepEqual([first.type, first.object.metadata.namespace, first.object.metadata.name], ['ADDED', 'team-d', 'plain'])
  expectCliError(await asD(['get', 'functions', '-w', '-n', 'team-b']), /may act on namespace team-d only/)

  const all = JSON.parse(ok(await platform.cli(['token', 'list', '-o', 'json']))) as Array<{ id: string, namespace: string, current: boolean }>
  const admin = all.find((t) => t.current)
  const ofB = all.find((t) => t.namespace === 'team-b')
  assert.ok(admin !== undefined && admin.namespace === '*' && ofB !== undefined, JSON.stringify(all))
  expectCliError(await asD(['token', 'revoke', ofB.id]), new RegExp(`token ${ofB.id} not found`))
  expectCliError(await platform.cli(['token', 'revoke', admin.id]), /the admin token cannot revoke itself/)
  assert.equal(ok(await platform.cli(['token', 'revoke', ofB.id])), `token/${ofB.id} revoked\n`)
  expectCliError(await platform.cli(['get', 'functions', '-n', 'team-b'], { env: { ROOST_TOKEN: other } }), /token is not known/)

  // Deleting the namespace revokes its tokens.
  assert.match(ok(await platform.cli(['delete', 'namespace', 'team-d', '--force'])), /^namespace\/team-d deleted \(with 1 function\(s\): plain; 1 token\(s\) revoked\)$/m)
  expectCliError(await asD(['get', 'functions', '-n', 'team-d']), /token is not known/)
})
