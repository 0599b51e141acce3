// The life of a function, end to end: scaffold, apply, invoke, route, log,
// inspect, split traffic, roll back, scale and delete, all through a real
// `roost up` driven by the CLI and over HTTP. One platform serves the file;
// each test uses functions of its own names.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { TestPlatform, isAlive, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { call, cliJson, instancesOf, ok, spawnCli, text, versionsOf, waitForExit, type InstanceItem, type VersionItem } from '../helpers/e2e.js'

let platform: TestPlatform
const folders: string[] = []

before(async () => {
  platform = await TestPlatform.start()
})

after(async () => {
  await platform?.stop()
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

function project (files: Record<string, string>): string {
  const dir = writeProject(files)
  folders.push(dir)
  return dir
}

/** A handler module answering `body` as text. */
function answering (body: string): string {
  return `export default () => new Response(${JSON.stringify(body)})\n`
}

async function apply (file: string, ...flags: string[]): Promise<string> {
  return ok(await platform.cli(['apply', '-f', file, ...flags]), `roost apply -f ${file}`)
}

/** Deletes through the API: cleanup between tests, where the CLI is not what is tested. */
async function remove (names: string[], namespace = 'default'): Promise<void> {
  for (const name of names) {
    const response = await platform.api(`/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`, { method: 'DELETE' })
    assert.equal(response.status, 200, `DELETE ${name}: HTTP ${response.status}`)
  }
}

async function invoke (args: string[]): Promise<string> {
  return ok(await platform.cli(['invoke', ...args]), `roost invoke ${args.join(' ')}`)
}

test('roost init scaffolds hello.ts, roost.yaml and package.json that deploy as is, without npm install', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'roost-init-'))
  folders.push(cwd)
  ok(await platform.cli(['init', 'hello'], { cwd }), 'roost init hello')
  for (const file of ['hello.ts', 'roost.yaml', 'package.json']) {
    assert.ok(existsSync(join(cwd, 'hello', file)), `init wrote no hello/${file}`)
  }
  const pkg = JSON.parse(readFileSync(join(cwd, 'hello', 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> }
  assert.equal(typeof pkg.devDependencies?.['@roost/types'], 'string', 'package.json brings @roost/types as a devDependency')
  assert.equal(existsSync(join(cwd, 'hello', 'node_modules')), false, 'nothing was installed')

  const applied = ok(await platform.cli(['apply', '-f', 'hello/roost.yaml'], { cwd }), 'roost apply -f hello/roost.yaml')
  assert.match(applied, /^function\/hello created \(v1\)$/m)
  const answer = ok(await platform.cli(['invoke', 'hello', '--data', 'world'], { cwd }), 'roost invoke hello --data world')
  assert.deepEqual(JSON.parse(answer), { message: 'hello, world', version: 1 })
})

test('apply says created (v1), configured (v2) after a code change, and unchanged with no new version on a re-apply', async () => {
  const dir = project({
    'counter.ts': answering('one'),
    'roost.yaml': manifest('counter', 'source: ./counter.ts\nenv: { LEVEL: a }\nscale: { min: 0, max: 5 }')
  })
  const file = join(dir, 'roost.yaml')
  assert.match(await apply(file), /^function\/counter created \(v1\)$/m)
  assert.equal(await text(platform, '/fn/counter'), 'one')

  writeFileSync(join(dir, 'counter.ts'), answering('two'))
  assert.match(await apply(file), /^function\/counter configured \(v2\)$/m)
  assert.equal(await text(platform, '/fn/counter'), 'two', 'the new version takes the traffic')

  const unchanged = await apply(file)
  assert.match(unchanged, /^function\/counter unchanged$/m)
  assert.doesNotMatch(unchanged, /\(v\d+\)/)
  assert.equal((await cliJson<VersionItem[]>(platform, ['get', 'versions', 'counter'])).length, 2, 'an unchanged re-apply makes no version')
})

test('a configuration-only change (env) makes a new version; a scale-only change says configured and makes none', async () => {
  const dir = project({
    'counter.ts': answering('two'),
    'roost.yaml': manifest('counter', 'source: ./counter.ts\nenv: { LEVEL: b }\nscale: { min: 0, max: 5 }')
  })
  const file = join(dir, 'roost.yaml')
  assert.match(await apply(file), /^function\/counter configured \(v3\)$/m)
  const versions = await versionsOf(platform, 'counter')
  assert.deepEqual(versions.map((v) => v.number), [1, 2, 3])
  assert.deepEqual(versions[2].config.env, { LEVEL: 'b' })

  writeFileSync(file, manifest('counter', 'source: ./counter.ts\nenv: { LEVEL: b }\nscale: { min: 0, max: 7 }'))
  const scaled = await apply(file)
  assert.match(scaled, /^function\/counter configured$/m)
  assert.doesNotMatch(scaled, /\(v\d+\)/)
  assert.equal((await cliJson<VersionItem[]>(platform, ['get', 'versions', 'counter'])).length, 3, 'scale lives on the function, not on a version')
  const fn = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/counter').then(async (r) => await r.json() as { spec: { scale: { max: number } } })
  assert.equal(fn.spec.scale.max, 7)
  await remove(['counter'])
})

const ECHO = `export default async (req: Request) => {
  const url = new URL(req.url)
  if (url.pathname === '/teapot') return new Response('short and stout', { status: 418 })
  return Response.json({
    method: req.method,
    path: url.pathname,
    search: url.search,
    header: req.headers.get('x-test'),
    body: await req.text()
  })
}
`

interface Echo { method: string, path: string, search: string, header: string | null, body: string }

test('invoke prints the body and passes --method, --header, --data @file and --path to the handler', async () => {
  const dir = project({
    'echo.ts': ECHO,
    'payload.txt': 'from a file\nline two\n',
    'roost.yaml': manifest('echo', 'source: ./echo.ts\nhttp: { path: /api/greet }')
  })
  assert.match(await apply(join(dir, 'roost.yaml')), /^function\/echo created \(v1\)$/m)

  const plain = JSON.parse(await invoke(['echo'])) as Echo
  assert.deepEqual(plain, { method: 'GET', path: '/', search: '', header: null, body: '' })

  const full = JSON.parse(await invoke(['echo', '--method', 'PUT', '--header', 'x-test:abc', '--data', `@${join(dir, 'payload.txt')}`, '--path', '/sub?q=1'])) as Echo
  assert.deepEqual(full, { method: 'PUT', path: '/sub', search: '?q=1', header: 'abc', body: 'from a file\nline two\n' })

  const posted = JSON.parse(await invoke(['echo', '--data', 'world'])) as Echo
  assert.equal(posted.method, 'POST', '--data alone implies POST')
  assert.equal(posted.body, 'world')
})

test('invoke of a non-2xx answer exits with code 1 and names the status on stderr', async () => {
  const result = await platform.cli(['invoke', 'echo', '--path', '/teapot'])
  assert.equal(result.code, 1, result.stderr)
  assert.match(result.stderr, /418/)
  assert.equal(result.stdout, 'short and stout', 'the body is still printed')

  const missing = await platform.cli(['invoke', 'no-such-function'])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /404/)
})

test('a function answers at /fn/NAME, /fn/NAME.NAMESPACE and spec.http.path, with the rest of the path and the query passed on', async () => {
  const dir = project({
    'team.ts': `export default (req: Request, ctx: any) => {
  const url = new URL(req.url)
  return Response.json({ namespace: ctx.function.namespace, name: ctx.function.name, path: url.pathname, search: url.search })
}
`,
    'roost.yaml': manifest('teamfn', 'source: ./team.ts', '  namespace: team-a\n')
  })
  assert.match(await apply(join(dir, 'roost.yaml')), /^function\/teamfn created \(v1\)$/m)

  const echoAt = async (path: string): Promise<Echo> => JSON.parse(await text(platform, path)) as Echo
  assert.deepEqual(await echoAt('/fn/echo'), { method: 'GET', path: '/', search: '', header: null, body: '' })
  assert.deepEqual(await echoAt('/fn/echo/a/b?c=1&d=2'), { method: 'GET', path: '/a/b', search: '?c=1&d=2', header: null, body: '' })
  assert.deepEqual(await echoAt('/fn/echo?only=query'), { method: 'GET', path: '/', search: '?only=query', header: null, body: '' })
  assert.deepEqual(await echoAt('/fn/echo.default/x'), { method: 'GET', path: '/x', search: '', header: null, body: '' })
  assert.deepEqual(await echoAt('/api/greet'), { method: 'GET', path: '/', search: '', header: null, body: '' })
  assert.deepEqual(await echoAt('/api/greet/x?y=1'), { method: 'GET', path: '/x', search: '?y=1', header: null, body: '' })

  assert.deepEqual(JSON.parse(await text(platform, '/fn/teamfn.team-a/deep/path?z=2')), { namespace: 'team-a', name: 'teamfn', path: '/deep/path', search: '?z=2' })
  assert.deepEqual(JSON.parse(await invoke(['teamfn', '-n', 'team-a', '--path', '/v'])), { namespace: 'team-a', name: 'teamfn', path: '/v', search: '' })
  assert.equal((await call(platform, '/fn/teamfn')).status, 404, '/fn/NAME is for the default namespace only')

  for (const path of ['/nope', '/fn/ghost', '/api/greetings', '/fn/echo.team-a']) {
    const response = await platform.fetch(path)
    assert.equal(response.status, 404, path)
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, path)
    const problem = await response.json() as { status: number, code: string, detail: string }
    assert.equal(problem.status, 404)
    assert.equal(typeof problem.code, 'string')
    assert.equal(typeof problem.detail, 'string')
  }
  await remove(['teamfn'], 'team-a')
})

test('ESM JS, CJS, an object with fetch, a folder with package.json main and an npm dependency from node_modules all deploy and answer', async () => {
  const doc = (name: string, source: string): string => manifest(name, `source: ${source}`)
  const dir = project({
    'esm.js': 'export default async function (req) { return new Response(\'esm js \' + req.method) }\n',
    'cjs.js': 'const word = require(\'./word.js\')\nmodule.exports = async (req) => new Response(\'cjs \' + word)\n',
    'word.js': 'module.exports = \'works\'\n',
    'object.ts': 'export default { async fetch (req: Request, ctx: { function: { name: string } }) { return new Response(`object fetch in ${ctx.function.name}`) } }\n',
    'app/package.json': JSON.stringify({ name: 'app', version: '1.0.0', main: 'lib/start.js' }),
    'app/lib/start.js': 'import { greeting } from \'./greeting.js\'\nexport default () => new Response(greeting)\n',
    'app/lib/greeting.js': 'export const greeting = \'folder main\'\n',
    'app/index.ts': answering('index.ts must not win over main'),
    'dep.ts': 'import leftpad from \'leftpad-lite\'\nexport default () => new Response(leftpad(\'7\', 3, \'0\'))\n',
    'package.json': JSON.stringify({ name: 'formats', version: '1.0.0', private: true, dependencies: { 'leftpad-lite': '1.0.0' } }),
    'node_modules/leftpad-lite/package.json': JSON.stringify({ name: 'leftpad-lite', version: '1.0.0', main: 'index.js' }),
    'node_modules/leftpad-lite/index.js': 'module.exports = function leftpad (s, n, c) { s = String(s); while (s.length < n) s = c + s; return s }\n',
    'roost.yaml': [doc('esm', './esm.js'), doc('cjs', './cjs.js'), doc('object', './object.ts'), doc('folder', './app'), doc('dep', './dep.ts')].join('---\n')
  })
  const applied = await apply(join(dir, 'roost.yaml'))
  for (const name of ['esm', 'cjs', 'object', 'folder', 'dep']) assert.match(applied, new RegExp(`^function/${name} created \\(v1\\)$`, 'm'))

  assert.equal(await text(platform, '/fn/esm'), 'esm js GET')
  assert.equal(await text(platform, '/fn/cjs'), 'cjs works')
  assert.equal(await text(platform, '/fn/object'), 'object fetch in object')
  assert.equal(await text(platform, '/fn/folder'), 'folder main')
  assert.equal(await text(platform, '/fn/dep'), '007', 'the dependency was bundled')
  await remove(['esm', 'cjs', 'object', 'folder', 'dep'])
})

const CONTEXT = `import type { Context } from '@roost/types'

export default async function (req: Request, ctx: Context): Promise<Response> {
  const mark = new URL(req.url).searchParams.get('mark') ?? 'none'
  ctx.log.info('from ctx.log', mark)
  console.log('from console.log', mark)
  return Response.json({ requestId: ctx.requestId, fn: ctx.function, greeting: process.env.GREETING ?? null })
}
`

interface ContextAnswer { requestId: string, fn: { name: string, namespace: string, version: number }, greeting: string | null }
interface LogItem { id: number, time: number, level: string, stream: string, requestId: string | null, message: string, instance: string, function: string }

async function contextCall (mark: string): Promise<{ answer: ContextAnswer, headerId: string | null }> {
  const response = await platform.fetch(`/fn/ctx?mark=${mark}`)
  assert.equal(response.status, 200)
  return { answer: await response.json() as ContextAnswer, headerId: response.headers.get('x-request-id') }
}

test('the handler gets ctx.requestId (the x-request-id answered), ctx.function and spec.env in process.env', async () => {
  const dir = project({
    'ctx.ts': CONTEXT,
    'roost.yaml': manifest('ctx', 'source: ./ctx.ts\nenv: { GREETING: hi there }')
  })
  assert.match(await apply(join(dir, 'roost.yaml')), /^function\/ctx created \(v1\)$/m)
  const { answer, headerId } = await contextCall('first')
  assert.ok(answer.requestId.length > 0)
  assert.equal(headerId, answer.requestId)
  assert.deepEqual(answer.fn, { name: 'ctx', namespace: 'default', version: 1 })
  assert.equal(answer.greeting, 'hi there')

  const given = await platform.fetch('/fn/ctx?mark=given', { headers: { 'x-request-id': 'my-request-42' } })
  assert.equal(given.headers.get('x-request-id'), 'my-request-42', 'a caller\'s request id is kept')
  assert.equal((await given.json() as ContextAnswer).requestId, 'my-request-42')
})

test('ctx.log and console.log lines reach roost logs with the instance id and the request id; --since and -o json work', async () => {
  const { answer } = await contextCall('logged-1')
  const requestId = answer.requestId
  const [instance] = await instancesOf(platform, 'ctx')
  assert.ok(instance !== undefined, 'the function has an instance')

  // Lines are stored in batches: wait (through the API) until both are in, then ask the CLI.
  await waitFor(async () => {
    const response = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/ctx/logs')
    const { items } = await response.json() as { items: LogItem[] }
    return items.filter((item) => item.message.endsWith(' logged-1')).length === 2
  }, 10_000, () => 'the log lines of logged-1 were not stored')
  const printed = ok(await platform.cli(['logs', 'ctx']))
  for (const message of ['from ctx.log logged-1', 'from console.log logged-1']) {
    const line = printed.split('\n').find((l) => l.includes(message))
    assert.ok(line !== undefined)
    assert.ok(line.includes(instance.id), `"${line}" names the instance ${instance.id}`)
    assert.ok(line.includes(requestId), `"${line}" names the request ${requestId}`)
  }

  const since = ok(await platform.cli(['logs', 'ctx', '--since', '1h']))
  assert.ok(since.includes('from ctx.log logged-1'), since)
  assert.ok(since.includes('from console.log logged-1'), since)
  // The lines were stored before this CLI even started: a 1ms window leaves them out.
  const recent = ok(await platform.cli(['logs', 'ctx', '--since', '1ms']))
  assert.ok(!recent.includes('logged-1'), `--since 1ms printed older lines:\n${recent}`)

  const json = ok(await platform.cli(['logs', 'ctx', '-o', 'json']))
  const items = json.trim().split('\n').map((line) => JSON.parse(line) as LogItem)
  for (const message of ['from ctx.log logged-1', 'from console.log logged-1']) {
    const item = items.find((i) => i.message === message)
    assert.ok(item !== undefined, `-o json has "${message}": ${json}`)
    assert.equal(item.requestId, requestId)
    assert.equal(item.instance, instance.id)
    assert.equal(item.function, 'ctx')
  }
})

test('roost logs -f prints a line written after it started', async (t) => {
  const follower = spawnCli(platform.home, ['logs', 'ctx', '-f'])
  t.after(() => follower.kill())
  // The backlog arrives once the stream is open: from then on new lines follow.
  await waitFor(() => follower.stdout.includes('logged-1') || !follower.running, 10_000, () => `logs -f printed:\n${follower.stdout}${follower.stderr}`)
  assert.ok(follower.running, `logs -f ended early: ${follower.stderr}`)
  assert.ok(!follower.stdout.includes('followed-2'))
  const { answer } = await contextCall('followed-2')
  await waitFor(() => follower.stdout.includes('from ctx.log followed-2'), 10_000, () => `logs -f printed:\n${follower.stdout}${follower.stderr}`)
  const line = follower.stdout.split('\n').find((l) => l.includes('from ctx.log followed-2'))
  assert.ok(line?.includes(answer.requestId))
})

test('get functions, versions and instances print tables, -o json and -o yaml', async () => {
  const functionsTable = ok(await platform.cli(['get', 'functions']))
  assert.match(functionsTable, /^NAME\s+NAMESPACE\s+LATEST/)
  assert.match(functionsTable, /^ctx\s+default\s+v1\s/m)
  const functionsJson = await cliJson<Array<{ metadata: { name: string }, spec: { env: Record<string, string> } }>>(platform, ['get', 'functions'])
  const ctxFn = functionsJson.find((fn) => fn.metadata.name === 'ctx')
  assert.deepEqual(ctxFn?.spec.env, { GREETING: 'hi there' })
  const functionsYaml = parseYaml(ok(await platform.cli(['get', 'functions', '-o', 'yaml']))) as typeof functionsJson
  assert.deepEqual(functionsYaml.map((fn) => fn.metadata.name).sort(), functionsJson.map((fn) => fn.metadata.name).sort())

  const versionsTable = ok(await platform.cli(['get', 'versions', 'ctx']))
  assert.match(versionsTable, /^VERSION\s+TRAFFIC/)
  assert.match(versionsTable, /^v1\s+100%/m)
  const versions = await cliJson<VersionItem[]>(platform, ['get', 'versions', 'ctx'])
  assert.equal(versions.length, 1)
  assert.equal(versions[0].number, 1)
  assert.equal(versions[0].traffic, 100)
  assert.match(versions[0].bundleHash, /^[0-9a-f]{64}$/)
  const versionsYaml = parseYaml(ok(await platform.cli(['get', 'versions', 'ctx', '-o', 'yaml']))) as VersionItem[]
  assert.deepEqual(versionsYaml, versions)

  const [instance] = (await cliJson<InstanceItem[]>(platform, ['get', 'instances'])).filter((i) => i.function === 'ctx')
  assert.ok(instance !== undefined)
  assert.equal(instance.state, 'ready')
  assert.ok(typeof instance.pid === 'number' && isAlive(instance.pid), 'the instance is a live process')
  const instancesTable = ok(await platform.cli(['get', 'instances']))
  assert.match(instancesTable, /^ID\s+FUNCTION\s+VERSION\s+STATE\s+IN-FLIGHT\s+PID/)
  assert.match(instancesTable, new RegExp(`^${instance.id}\\s+ctx.default\\s+v1\\s+ready\\s+\\d+\\s+${instance.pid}\\s`, 'm'))
  const instancesYaml = parseYaml(ok(await platform.cli(['get', 'instances', '-o', 'yaml']))) as InstanceItem[]
  assert.ok(instancesYaml.some((i) => i.id === instance.id && i.pid === instance.pid))
})

test('describe function shows the spec, versions, instances and events (VersionCreated, Started)', async () => {
  const [instance] = await instancesOf(platform, 'ctx')
  const described = ok(await platform.cli(['describe', 'function', 'ctx']))
  assert.match(described, /^Name:\s+ctx$/m)
  assert.match(described, /^Namespace:\s+default$/m)
  assert.match(described, /^Source:\s+\.\/ctx\.ts$/m)
  assert.match(described, /^Env:\s+GREETING$/m)
  assert.match(described, /^Versions:$/m)
  assert.match(described, /^\s+v1\s+100%/m)
  assert.match(described, /^Instances:$/m)
  assert.ok(described.includes(instance.id), described)
  assert.match(described, /^Events:$/m)
  assert.match(described, /VersionCreated/)
  assert.match(described, /Started/)
  await remove(['ctx'])
})

test('traffic sends default requests to the 100% version and x-roost-tag requests to the tagged one', async () => {
  const dir = project({
    'split.ts': answering('one'),
    'roost.yaml': manifest('split', 'source: ./split.ts')
  })
  const file = join(dir, 'roost.yaml')
  assert.match(await apply(file), /created \(v1\)/)
  writeFileSync(join(dir, 'split.ts'), answering('two'))
  assert.match(await apply(file), /configured \(v2\)/)
  writeFileSync(file, manifest('split', 'source: ./split.ts\ntraffic:\n  - { version: 1, percent: 0, tag: old }\n  - { version: 2, percent: 100 }'))
  const routed = await apply(file)
  assert.match(routed, /^function\/split configured$/m, 'a traffic change makes no version')

  for (let i = 0; i < 10; i++) assert.equal(await text(platform, '/fn/split'), 'two')
  for (let i = 0; i < 3; i++) assert.equal(await text(platform, '/fn/split', { headers: { 'x-roost-tag': 'old' } }), 'one')
  assert.equal(await invoke(['split', '--header', 'x-roost-tag:old']), 'one')
  assert.equal(await text(platform, '/fn/split', { headers: { 'x-roost-tag': 'no-such-tag' } }), 'two', 'an unknown tag gets the default split')
  const versions = await versionsOf(platform, 'split')
  assert.deepEqual(versions.map((v) => [v.number, v.traffic, v.tag]), [[1, 0, 'old'], [2, 100, null]])
  await remove(['split'])
})

test('rollback moves traffic to the previous version at once, --to to a named one, and a re-apply routes to the newest again', async () => {
  const dir = project({ 'rb.ts': answering('one'), 'roost.yaml': manifest('rb', 'source: ./rb.ts') })
  const file = join(dir, 'roost.yaml')
  // Routes move to a new version once it is ready (--wait returns then); a
  // rollback to a version that was ready once moves at once.
  await apply(file, '--wait')
  for (const body of ['two', 'three']) {
    writeFileSync(join(dir, 'rb.ts'), answering(body))
    await apply(file, '--wait')
  }
  assert.equal(await text(platform, '/fn/rb'), 'three')

  assert.match(ok(await platform.cli(['rollback', 'rb'])), /^function\/rb rolled back from v3 to v2$/m)
  assert.equal(await invoke(['rb']), 'two', 'the next request after rollback answers from v2')
  assert.deepEqual((await versionsOf(platform, 'rb')).map((v) => v.traffic), [0, 100, 0])

  assert.match(ok(await platform.cli(['rollback', 'rb', '--to', 'v1'])), /^function\/rb rolled back from v2 to v1$/m)
  assert.equal(await text(platform, '/fn/rb'), 'one')

  assert.match(ok(await platform.cli(['rollback', 'rb', '--to', 'v2'])), /^function\/rb rolled forward from v1 to v2$/m)
  assert.equal(await text(platform, '/fn/rb'), 'two')

  const missing = await platform.cli(['rollback', 'rb', '--to', 'v9'])
  assert.notEqual(missing.code, 0)
  assert.match(missing.stderr, /v9/)
  assert.equal(await text(platform, '/fn/rb'), 'two', 'a failed rollback changes nothing')

  const events = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/rb/events').then(async (r) => await r.json() as { items: Array<{ reason: string, message: string }> })
  assert.deepEqual(events.items.filter((e) => e.reason === 'RolledBack').map((e) => e.message).sort(),
    ['traffic moved from v1 to v2', 'traffic moved from v2 to v1', 'traffic moved from v3 to v2'], 'each rollback is an event')

  const reapplied = await apply(file)
  assert.match(reapplied, /^function\/rb configured$/m)
  assert.equal(await invoke(['rb']), 'three', 're-apply routes to the newest version again')
  assert.equal((await versionsOf(platform, 'rb')).length, 3, 'rollback and re-apply make no version')
  await remove(['rb'])
})

test('rollback of a function with one version fails with a clear message', async () => {
  const dir = project({ 'single.ts': answering('only'), 'roost.yaml': manifest('single', 'source: ./single.ts') })
  await apply(join(dir, 'roost.yaml'))
  const result = await platform.cli(['rollback', 'single'])
  assert.notEqual(result.code, 0)
  assert.match(result.stderr, /^error: .*v1 is the first version of single.*nothing to roll back to/m)
  assert.match(result.stderr, /^hint: /m)
  assert.equal(result.stdout, '')
  const unknown = await platform.cli(['rollback', 'no-such-function'])
  assert.notEqual(unknown.code, 0)
  assert.match(unknown.stderr, /not found/)
  await remove(['single'])
})

test('delete function removes it from the gateway and from get functions, and its instance processes exit', async () => {
  const dir = project({ 'doomed.ts': answering('still here'), 'roost.yaml': manifest('doomed', 'source: ./doomed.ts\nscale: { min: 2, max: 2 }') })
  await apply(join(dir, 'roost.yaml'))
  let instances: InstanceItem[] = []
  await waitFor(async () => {
    instances = (await instancesOf(platform, 'doomed')).filter((i) => i.state === 'ready')
    return instances.length === 2
  }, 15_000, () => `instances: ${JSON.stringify(instances)}`)
  assert.equal(await text(platform, '/fn/doomed'), 'still here')
  const listed = (await cliJson<InstanceItem[]>(platform, ['get', 'instances'])).filter((i) => i.function === 'doomed')
  const pids = listed.map((i) => i.pid as number)
  assert.equal(pids.length, 2)
  assert.ok(pids.every((pid) => isAlive(pid)))

  assert.match(ok(await platform.cli(['delete', 'function', 'doomed'])), /^function\/doomed deleted$/m)
  const gone = await call(platform, '/fn/doomed')
  assert.equal(gone.status, 404)
  assert.match(gone.headers.get('content-type') ?? '', /problem\+json/)
  const names = (await cliJson<Array<{ metadata: { name: string } }>>(platform, ['get', 'functions'])).map((fn) => fn.metadata.name)
  assert.ok(!names.includes('doomed'), `get functions still lists doomed: ${names.join(', ')}`)
  await waitForExit(pids)
  await waitFor(async () => (await instancesOf(platform, 'doomed')).length === 0, 10_000, () => 'get instances still lists doomed')
  const again = await platform.cli(['delete', 'function', 'doomed'])
  assert.notEqual(again.code, 0, 'deleting what is gone fails')
  assert.match(again.stderr, /not found/)
})

test('delete -f FILE deletes the functions the manifest declares', async () => {
  const dir = project({ 'byfile.ts': answering('by file'), 'roost.yaml': manifest('byfile', 'source: ./byfile.ts') })
  const file = join(dir, 'roost.yaml')
  await apply(file)
  assert.equal(await text(platform, '/fn/byfile'), 'by file')
  assert.match(ok(await platform.cli(['delete', '-f', file])), /^function\/byfile deleted$/m)
  assert.equal((await call(platform, '/fn/byfile')).status, 404)
  const names = (await cliJson<Array<{ metadata: { name: string } }>>(platform, ['get', 'functions'])).map((fn) => fn.metadata.name)
  assert.ok(!names.includes('byfile'))
  const versions = await platform.cli(['get', 'versions', 'byfile'])
  assert.notEqual(versions.code, 0, 'its versions are gone too')
})

test('with scale.min 0 a new version starts once and idles back to zero, and a request at zero starts one; with scale.min 2 two run', async () => {
  const dir = project({
    'lazy.ts': answering('woken up'),
    'pair.ts': answering('pair'),
    'roost.yaml': manifest('lazy', 'source: ./lazy.ts\nscale: { min: 0, scaleDownDelay: 1s }') + '---\n' + manifest('pair', 'source: ./pair.ts\nscale: { min: 2, max: 4 }')
  })
  await apply(join(dir, 'roost.yaml'))
  // A new version shows once that it starts (its status can then tell), then idles to zero.
  await waitFor(async () => /Started\s+instance lazy-v1/.test(ok(await platform.cli(['describe', 'function', 'lazy']))), 15_000, () => 'lazy v1 did not start once')
  await waitFor(async () => (await instancesOf(platform, 'lazy')).length === 0, 15_000, () => 'lazy did not go back to zero')
  const described = ok(await platform.cli(['describe', 'function', 'lazy']))
  assert.match(described, /ScaledToZero|ScaledDown/)

  assert.equal(await text(platform, '/fn/lazy'), 'woken up', 'the first request is held until an instance is ready')
  const lazy = await instancesOf(platform, 'lazy')
  assert.equal(lazy.length, 1)
  assert.equal(lazy[0].state, 'ready')

  let pair: InstanceItem[] = []
  await waitFor(async () => {
    pair = (await instancesOf(platform, 'pair')).filter((i) => i.state === 'ready')
    return pair.length === 2
  }, 15_000, () => `pair instances: ${JSON.stringify(pair)}`)
  assert.equal(new Set(pair.map((i) => i.pid)).size, 2, 'two separate processes')
  assert.equal(await text(platform, '/fn/pair'), 'pair')
  assert.equal((await instancesOf(platform, 'pair')).length, 2, 'min 2 keeps exactly two')
})
