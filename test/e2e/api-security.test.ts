// Who may call the REST API, what a namespace token may do, the published
// descriptions of the API and of manifests, and what instances cannot see.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse as parseYaml } from 'yaml'
import { REPO_ROOT, TestPlatform, manifest, writeProject } from '../helpers/platform.js'
import { expectCliError, expectProblem } from '../helpers/problems.js'

const V1 = '/apis/roost.dev/v1'

// The routes the CLI calls (src/cli/commands/*), as OpenAPI path templates.
const CLI_ROUTES: Array<[method: string, path: string]> = [
  ['put', `${V1}/namespaces/{namespace}/functions/{name}`], // apply
  ['get', `${V1}/functions`], // get functions -A
  ['get', `${V1}/namespaces/{namespace}/functions`], // get functions
  ['get', `${V1}/namespaces/{namespace}/functions/{name}`], // describe
  ['get', `${V1}/namespaces/{namespace}/functions/{name}/versions`], // get versions, describe
  ['get', `${V1}/namespaces/{namespace}/functions/{name}/events`], // describe
  ['get', `${V1}/namespaces/{namespace}/functions/{name}/logs`], // logs
  ['post', `${V1}/namespaces/{namespace}/functions/{name}/rollback`], // rollback
  ['delete', `${V1}/namespaces/{namespace}/functions/{name}`], // delete
  ['get', `${V1}/instances`], // get instances, describe
  ['post', `${V1}/namespaces/{namespace}/tokens`], // token create
  ['get', `${V1}/tokens`], // token list
  ['get', `${V1}/namespaces/{namespace}/tokens`], // token list -n
  ['delete', `${V1}/tokens/{id}`], // token revoke
  ['get', `${V1}/namespaces`], // get namespaces
  ['get', `${V1}/namespaces/{namespace}`], // get namespaces NAME
  ['post', `${V1}/namespaces`], // create namespace
  ['delete', `${V1}/namespaces/{namespace}`], // delete namespace
  ['get', `${V1}/events`], // get events -A
  ['get', `${V1}/namespaces/{namespace}/events`], // get events
  ['get', `${V1}/watch/functions`], // get functions -w -A
  ['get', `${V1}/watch/namespaces/{namespace}/functions`] // get functions -w
]

let platform: TestPlatform
let project: string
let teamToken: string

before(async () => {
  platform = await TestPlatform.start()
  project = writeProject({
    'hello.ts': "export default () => new Response('hello')\n",
    'env.ts': 'export default () => Response.json({ env: process.env, argv: process.argv, execArgv: process.execArgv })\n',
    'default.yaml': manifest('in-default', 'source: ./hello.ts') + '---\n' + manifest('env-dump', 'source: ./env.ts'),
    'team-a.yaml': manifest('in-team-a', 'source: ./hello.ts', '  namespace: team-a\n'),
    'team-a-also-default.yaml': manifest('sneaky', 'source: ./hello.ts')
  })
  const applied = await platform.cli(['apply', '-f', join(project, 'default.yaml')])
  assert.equal(applied.code, 0, applied.stderr)
  const created = await platform.cli(['token', 'create', '-n', 'team-a'])
  assert.equal(created.code, 0, created.stderr)
  teamToken = created.stdout.trim()
  assert.match(teamToken, /^\S{20,}$/, `token create prints the token alone: ${created.stdout}`)
})

after(async () => {
  await platform?.stop()
  if (project !== undefined) rmSync(project, { recursive: true, force: true })
})

/** The CLI as a holder of the team-a token only. */
function asTeamA (args: string[]): ReturnType<TestPlatform['cli']> {
  return platform.cli(args, { env: { ROOST_TOKEN: teamToken } })
}

async function namesIn (response: Response): Promise<string[]> {
  assert.equal(response.status, 200)
  const { items } = await response.json() as { items: Array<{ metadata: { name: string, namespace: string } }> }
  return items.map((fn) => `${fn.metadata.namespace}/${fn.metadata.name}`).sort()
}

test('the API answers 401 problem+json without a token, with an unknown one, or with another scheme', async () => {
  const missing = await expectProblem(await platform.api(`${V1}/functions`, { token: null }), 401, 'ROOST_E_UNAUTHORIZED')
  assert.ok(missing.hint !== undefined && missing.hint !== '', 'a 401 says how to authenticate')
  await expectProblem(await platform.api(`${V1}/functions`, { token: 'roost_not-a-token-of-this-platform' }), 401, 'ROOST_E_UNAUTHORIZED')
  await expectProblem(await platform.api(`${V1}/functions`, { token: null, headers: { authorization: `Basic ${platform.config.token}` } }), 401, 'ROOST_E_UNAUTHORIZED')
  // Writes are refused before anything is read or stored.
  const put = await platform.api(`${V1}/namespaces/default/functions/intruder`, {
    token: null,
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'intruder' }, spec: { source: { inline: 'export default () => new Response("x")' } } } })
  })
  await expectProblem(put, 401, 'ROOST_E_UNAUTHORIZED')
  assert.deepEqual(await namesIn(await platform.api(`${V1}/functions`)), ['default/env-dump', 'default/in-default'])
  // The CLI with a wrong token says so.
  expectCliError(await platform.cli(['get', 'functions'], { env: { ROOST_TOKEN: 'roost_wrong' } }), /token is not known/)
})

test('/healthz and /openapi.json need no token', async () => {
  const health = await platform.api('/healthz', { token: null })
  assert.equal(health.status, 200)
  assert.deepEqual(await health.json(), { status: 'ok' })
  const openapi = await platform.api('/openapi.json', { token: null })
  assert.equal(openapi.status, 200)
  assert.match(openapi.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal((await openapi.json() as { openapi: string }).openapi, '3.1.0')
})

test('a namespace token may list and apply in its namespace', async () => {
  const applied = await asTeamA(['apply', '-f', join(project, 'team-a.yaml')])
  assert.equal(applied.code, 0, applied.stderr)
  assert.equal(applied.stdout, 'function/in-team-a created (v1)\n')
  const listed = await asTeamA(['get', 'functions', '-n', 'team-a', '-o', 'json'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.deepEqual((JSON.parse(listed.stdout) as Array<{ metadata: { name: string } }>).map((fn) => fn.metadata.name), ['in-team-a'])
  const described = await asTeamA(['describe', 'function', 'in-team-a', '-n', 'team-a'])
  assert.equal(described.code, 0, described.stderr)
  const response = await platform.fetch('/fn/in-team-a.team-a')
  assert.equal(response.status, 200)
  assert.equal(await response.text(), 'hello')
})

test('a namespace token sees only its own namespace when listing everything', async () => {
  assert.deepEqual(await namesIn(await platform.api(`${V1}/functions`, { token: teamToken })), ['team-a/in-team-a'])
  assert.deepEqual(await namesIn(await platform.api(`${V1}/functions`)), ['default/env-dump', 'default/in-default', 'team-a/in-team-a'])
  const listed = await asTeamA(['get', 'functions', '-A', '-o', 'json'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.deepEqual((JSON.parse(listed.stdout) as Array<{ metadata: { namespace: string } }>).map((fn) => fn.metadata.namespace), ['team-a'])
  const instances = await platform.api(`${V1}/instances`, { token: teamToken })
  assert.equal(instances.status, 200)
  const { items } = await instances.json() as { items: Array<{ namespace: string }> }
  assert.ok(items.every((i) => i.namespace === 'team-a'), JSON.stringify(items))
})

test('a namespace token gets 403 problem+json on another namespace and on creating tokens', async () => {
  const forbidden = async (path: string, init: RequestInit = {}): Promise<void> => {
    const problem = await expectProblem(await platform.api(path, { ...init, token: teamToken }), 403, 'ROOST_E_FORBIDDEN')
    assert.ok(problem.hint !== undefined && problem.hint !== '', `a 403 gives a hint: ${JSON.stringify(problem)}`)
  }
  await forbidden(`${V1}/namespaces/default/functions`)
  await forbidden(`${V1}/namespaces/default/functions/in-default`)
  await forbidden(`${V1}/namespaces/default/functions/in-default/logs`)
  await forbidden(`${V1}/namespaces/default/functions/in-default`, { method: 'DELETE' })
  await forbidden(`${V1}/namespaces/default/functions/in-default/rollback`, { method: 'POST' })
  await forbidden(`${V1}/instances?namespace=default`)
  await forbidden(`${V1}/namespaces/default/functions/sneaky`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'sneaky' }, spec: { source: { inline: 'export default () => new Response("x")' } } } })
  })
  await forbidden(`${V1}/namespaces/team-a/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  await forbidden(`${V1}/namespaces/default/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  // Nothing of the above happened.
  assert.deepEqual(await namesIn(await platform.api(`${V1}/functions`)), ['default/env-dump', 'default/in-default', 'team-a/in-team-a'])
  assert.equal((await platform.fetch('/fn/in-default')).status, 200)
})

test('the CLI with a namespace token fails elsewhere with a clear forbidden message', async () => {
  const { error } = expectCliError(await asTeamA(['get', 'functions']), /may act on namespace team-a only, not on default/)
  assert.doesNotMatch(error, /HTTP 403:/, 'the API\'s problem is shown, not a raw status')
  expectCliError(await asTeamA(['apply', '-f', join(project, 'team-a-also-default.yaml')]), /may act on namespace team-a only, not on default/)
  expectCliError(await asTeamA(['delete', 'function', 'in-default']), /may act on namespace team-a only/)
  expectCliError(await asTeamA(['token', 'create', '-n', 'team-a']), /only the admin token/)
  const functions = await platform.cli(['get', 'functions', '-o', 'json'])
  assert.deepEqual((JSON.parse(functions.stdout) as Array<{ metadata: { name: string } }>).map((fn) => fn.metadata.name).sort(), ['env-dump', 'in-default'])
})

test('/openapi.json is OpenAPI 3.1 and describes every route the server and the CLI use', async () => {
  const document = await (await platform.api('/openapi.json', { token: null })).json() as { openapi: string, paths: Record<string, Record<string, unknown>> }
  assert.equal(document.openapi, '3.1.0')
  const documented = (method: string, path: string): boolean => document.paths[path]?.[method] !== undefined

  const served = serverRoutes()
  assert.ok(served.length >= 10, `found the routes of src/api/server.ts: ${JSON.stringify(served)}`)
  const undocumented = served.filter(([method, path]) => !documented(method, path))
  assert.deepEqual(undocumented, [], 'routes of src/api/server.ts missing from /openapi.json')

  for (const [method, path] of CLI_ROUTES) {
    assert.ok(served.some(([m, p]) => m === method && p === path), `the CLI calls ${method.toUpperCase()} ${path}, which the server does not serve`)
    assert.ok(documented(method, path), `the CLI calls ${method.toUpperCase()} ${path}, which /openapi.json does not describe`)
  }
})

// The files that register routes: server.ts and the route files beside it (src/api/routes.ts).
const ROUTE_FILES = ['server.ts', 'namespace-routes.ts', 'token-routes.ts', 'event-routes.ts', 'watch-routes.ts']

/** [method, OpenAPI path] of each route src/api/ registers. */
function serverRoutes (): Array<[string, string]> {
  return ROUTE_FILES.flatMap((file) => routesOf(file))
}

function routesOf (file: string): Array<[string, string]> {
  const source = readFileSync(join(REPO_ROOT, 'src', 'api', file), 'utf8')
  const prefix = /const PREFIX = '([^']+)'/.exec(source)?.[1]
  assert.ok(prefix !== undefined, `PREFIX in src/api/${file}`)
  const routes: Array<[string, string]> = []
  for (const match of source.matchAll(/app\.(get|put|post|delete|patch)\s*(?:<[^(]*>)?\(\s*[`'"]([^`'"]+)[`'"]/g)) {
    const path = match[2].replace('${PREFIX}', prefix).replace(/:(\w+)/g, '{$1}')
    routes.push([match[1], path])
  }
  return routes
}

test('the JSON Schema of manifests accepts the bundled example and rejects a wrong type', () => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema', 'function.schema.json'), 'utf8')) as object
  const validate = new Ajv2020({ allErrors: true }).compile(schema)
  const example = parseYaml(readFileSync(join(REPO_ROOT, 'examples', 'hello', 'roost.yaml'), 'utf8')) as { spec: { scale: Record<string, unknown> } }
  assert.equal(validate(example), true, JSON.stringify(validate.errors))

  const broken = structuredClone(example)
  broken.spec.scale.max = 'ten'
  assert.equal(validate(broken), false)
  assert.ok(validate.errors?.some((e) => e.instancePath === '/spec/scale/max'), JSON.stringify(validate.errors))
})

test('instances do not see the admin token or the platform\'s home', async () => {
  const response = await platform.fetch('/fn/env-dump')
  assert.equal(response.status, 200)
  const text = await response.text()
  const seen = JSON.parse(text) as { env: Record<string, string>, argv: string[], execArgv: string[] }
  assert.equal(seen.env.ROOST_FUNCTION, 'env-dump', 'this is the function\'s own environment')
  assert.ok(!text.includes(platform.config.token), 'the admin token reached an instance')
  assert.ok(!text.includes(teamToken), 'a namespace token reached an instance')
  assert.ok(!text.includes(platform.home), `ROOST_HOME (${platform.home}) reached an instance`)
  for (const key of ['ROOST_HOME', 'ROOST_TOKEN', 'ROOST_API']) assert.equal(seen.env[key], undefined, `${key} is set in an instance`)
})
