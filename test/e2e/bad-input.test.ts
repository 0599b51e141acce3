// Bad input gets a clear error and changes nothing: every rejected apply
// leaves the deployed function, its versions and what it serves as they were.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, writeProject } from '../helpers/platform.js'
import { expectCliError, expectProblem } from '../helpers/problems.js'

const FUNCTIONS = '/apis/roost.dev/v1/namespaces/default/functions'

let platform: TestPlatform
let project: string
// Manifests live in project/fn; project/x.ts exists but is outside their folder.
let fnDir: string
let deployed: State

before(async () => {
  platform = await TestPlatform.start()
  project = writeProject({
    'x.ts': "export default () => new Response('outside')\n",
    'fn/good.ts': "export default () => new Response('good v1')\n",
    'fn/stdin.ts': "export default () => new Response('from stdin')\n",
    'fn/syntax-error.ts': 'export default () => {\n  const x = ;\n  return new Response(x)\n}\n',
    'fn/good.yaml': manifest('good', 'source: ./good.ts\nscale:\n  min: 1')
  })
  fnDir = join(project, 'fn')
  const applied = await platform.cli(['apply', '-f', join(fnDir, 'good.yaml')])
  assert.equal(applied.code, 0, applied.stderr)
  deployed = await state()
  assert.equal(deployed.served, '200 good v1')
  assert.equal(deployed.versions.length, 1)
})

after(async () => {
  await platform?.stop()
  if (project !== undefined) rmSync(project, { recursive: true, force: true })
})

interface State {
  functions: unknown[]
  versions: unknown[]
  served: string
}

/** What a rejected input must not change: `get functions`, `get versions good`, and what /fn/good answers. */
async function state (): Promise<State> {
  const [functions, versions, response] = await Promise.all([
    platform.cli(['get', 'functions', '-A', '-o', 'json']),
    platform.cli(['get', 'versions', 'good', '-o', 'json']),
    platform.fetch('/fn/good')
  ])
  assert.equal(functions.code, 0, functions.stderr)
  assert.equal(versions.code, 0, versions.stderr)
  type FunctionItem = { metadata: Record<string, unknown>, spec: unknown, status: { latestVersion: number, traffic: unknown } }
  return {
    // Instance counts move on their own; everything stored must not.
    functions: (JSON.parse(functions.stdout) as FunctionItem[]).map((fn) => ({
      metadata: fn.metadata,
      spec: fn.spec,
      latestVersion: fn.status.latestVersion,
      traffic: fn.status.traffic
    })),
    versions: JSON.parse(versions.stdout) as unknown[],
    served: `${response.status} ${await response.text()}`
  }
}

async function assertUnchanged (): Promise<void> {
  assert.deepEqual(await state(), deployed, 'a rejected input changed the platform')
}

/** Writes a manifest beside good.yaml and applies it. */
async function applyFile (file: string, text: string): Promise<ReturnType<TestPlatform['cli']>> {
  writeFileSync(join(fnDir, file), text)
  return await platform.cli(['apply', '-f', join(fnDir, file)])
}

const GOOD_HEAD = 'apiVersion: roost.dev/v1\nkind: Function\nmetadata:\n  name: good\n'

test('malformed YAML is rejected with its line and column', async () => {
  const indented = await applyFile('bad-indent.yaml', `${GOOD_HEAD} namespace: default\nspec:\n  source: ./good.ts\n`)
  expectCliError(indented, /bad-indent\.yaml:5:\d+: \S/)
  const quoted = await applyFile('unclosed-quote.yaml', `${GOOD_HEAD}spec:\n  source: "./good.ts\n  timeout: 5s\n`)
  expectCliError(quoted, /unclosed-quote\.yaml:\d+:\d+: .*quote/i)
  await assertUnchanged()
})

test('an unknown kind or apiVersion is rejected, naming what is served', async () => {
  const kind = await applyFile('unknown-kind.yaml', manifest('good', 'source: ./good.ts').replace('kind: Function', 'kind: Funktion'))
  const kindError = expectCliError(kind, /unknown-kind\.yaml:2:1: kind "Funktion" .*is not served/)
  assert.match(kindError.error, /Function in roost\.dev\/v1/)
  const apiVersion = await applyFile('unknown-api.yaml', manifest('good', 'source: ./good.ts').replace('roost.dev/v1', 'roost.dev/v9'))
  expectCliError(apiVersion, /unknown-api\.yaml:1:1: .*apiVersion "roost\.dev\/v9" is not served/)
  await assertUnchanged()
})

test('a field of the wrong type is rejected with its path and what was expected', async () => {
  const max = await applyFile('max-ten.yaml', manifest('good', 'source: ./good.ts\nscale:\n  max: ten'))
  expectCliError(max, /max-ten\.yaml:8:5: spec\.scale\.max: expected an integer ≥ 1, got "ten"/)
  const timeout = await applyFile('timeout-soon.yaml', manifest('good', 'source: ./good.ts\ntimeout: soon'))
  expectCliError(timeout, /spec\.timeout: expected a duration .*got "soon"/)
  await assertUnchanged()
})

test('an unknown field is rejected as unknown, with a suggestion', async () => {
  const typo = await applyFile('typo.yaml', manifest('good', 'source: ./good.ts\nsorce: ./other.ts'))
  expectCliError(typo, /typo\.yaml:7:3: spec\.sorce: unknown field; did you mean "source"\?/)
  await assertUnchanged()
})

test('a name that is not a DNS label is rejected', async () => {
  const result = await applyFile('bad-name.yaml', manifest('Hello_World', 'source: ./good.ts'))
  expectCliError(result, /metadata\.name: "Hello_World" is not a valid name/)
  await assertUnchanged()
})

test('a source path outside the manifest\'s folder is rejected, even when the file exists', async () => {
  const result = await applyFile('outside.yaml', manifest('good', 'source: ../x.ts'))
  expectCliError(result, /outside\.yaml:1: spec\.source "\.\.\/x\.ts" is outside the manifest's folder/)
  await assertUnchanged()
})

test('a missing source file is rejected', async () => {
  const result = await applyFile('missing.yaml', manifest('good', 'source: ./missing.ts'))
  expectCliError(result, /missing\.yaml:1: spec\.source "\.\/missing\.ts" does not exist/)
  await assertUnchanged()
})

test('a build error is reported with esbuild\'s message at file:line:column', async () => {
  const result = await applyFile('build-error.yaml', manifest('good', 'source: ./syntax-error.ts'))
  expectCliError(result, /build-error\.yaml:1: syntax-error\.ts:2:13: Unexpected ";"/)
  await assertUnchanged()
})

test('in a multi-document file with a bad document, no document is applied', async () => {
  const text = [
    manifest('good', 'source: ./good.ts\nenv:\n  CHANGED: "yes"\nscale:\n  min: 1'), // would make v2
    manifest('newcomer', 'source: ./good.ts'), // would be created
    manifest('third', 'source: ./good.ts\nscale:\n  max: ten')
  ].join('---\n')
  const result = await applyFile('multi.yaml', text)
  // The bad field is the last `max:` of the file: the error names its line and column.
  const maxLine = text.split('\n').findLastIndex((line) => line.trim().startsWith('max:')) + 1
  expectCliError(result, new RegExp(`multi\\.yaml:${maxLine}:5: spec\\.scale\\.max: expected an integer`))
  assert.equal(result.stdout, '', 'nothing may be reported as applied')
  await assertUnchanged()
})

test('the API answers a body that is not JSON with 400 problem+json', async () => {
  const put = (body: string, contentType: string): Promise<Response> =>
    platform.api(`${FUNCTIONS}/good`, { method: 'PUT', headers: { 'content-type': contentType }, body })
  await expectProblem(await put('{"manifest": ', 'application/json'), 400, 'ROOST_E_BAD_REQUEST')
  await expectProblem(await put(manifest('good', 'source: ./good.ts'), 'application/yaml'), 400, 'ROOST_E_BAD_REQUEST')
  await expectProblem(await put('"a string"', 'application/json'), 400, 'ROOST_E_BAD_REQUEST')
  await assertUnchanged()
})

test('the API answers an invalid manifest with 422 problem+json listing each field', async () => {
  const response = await platform.api(`${FUNCTIONS}/good`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      manifest: {
        apiVersion: 'roost.dev/v1',
        kind: 'Function',
        metadata: { name: 'good' },
        spec: { source: { inline: 'export default () => new Response("evil")' }, timeout: 'soon', scale: { max: 'ten' } }
      }
    })
  })
  const problem = await expectProblem(response, 422, 'ROOST_E_VALIDATION')
  const fields = (problem.errors ?? []).map((e) => e.field).sort()
  assert.deepEqual(fields, ['spec.scale.max', 'spec.timeout'])
  assert.ok(problem.field === 'spec.scale.max' || problem.field === 'spec.timeout', `problem.field: ${problem.field}`)
  await assertUnchanged()
})

test('the API refuses a manifest whose namespace does not match the URL with 422', async () => {
  const body = JSON.stringify({
    manifest: {
      apiVersion: 'roost.dev/v1',
      kind: 'Function',
      metadata: { name: 'good', namespace: 'default' },
      spec: { source: { inline: 'export default () => new Response("elsewhere")' } }
    }
  })
  const response = await platform.api('/apis/roost.dev/v1/namespaces/other/functions/good', { method: 'PUT', headers: { 'content-type': 'application/json' }, body })
  const problem = await expectProblem(response, 422, 'ROOST_E_VALIDATION')
  assert.deepEqual((problem.errors ?? []).map((e) => e.field), ['metadata.namespace'])
  const other = await platform.api('/apis/roost.dev/v1/namespaces/other/functions')
  assert.deepEqual(await other.json(), { items: [] })
  await assertUnchanged()
})

test('the API answers a body over its limit with 413 problem+json', async () => {
  const padding = 'x'.repeat(65 * 1024 * 1024) // the limit is 64 MiB
  const response = await platform.api(`${FUNCTIONS}/good`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: `{"manifest": {}, "padding": "${padding}"}`
  })
  await expectProblem(response, 413, 'ROOST_E_PAYLOAD_TOO_LARGE')
  await assertUnchanged()
})

test('the API answers an unknown route with 404 problem+json', async () => {
  await expectProblem(await platform.api('/apis/roost.dev/v1/gadgets'), 404, 'ROOST_E_NOT_FOUND')
  await expectProblem(await platform.api(`${FUNCTIONS}/good/frobnicate`, { method: 'POST' }), 404, 'ROOST_E_NOT_FOUND')
  await expectProblem(await platform.api(`${FUNCTIONS}/nonexistent`), 404, 'ROOST_E_NOT_FOUND')
})

test('CLI usage errors exit with 2 and an error and a hint line', async () => {
  expectCliError(await platform.cli(['frobnicate']), /unknown command "frobnicate"/, 2)
  expectCliError(await platform.cli(['get', 'functions', '--colour']), /--colour/, 2)
  expectCliError(await platform.cli(['apply', '--filename']), /--filename/, 2)
  expectCliError(await platform.cli(['describe', 'function']), /needs a name/, 2)
  expectCliError(await platform.cli(['logs']), /needs the function's name/, 2)
  expectCliError(await platform.cli(['rollback']), /./, 2)
  expectCliError(await platform.cli(['apply']), /needs -f/, 2)
  expectCliError(await platform.cli(['apply', '-f', 'x.yaml', '--wait', '--timeout', 'soon']), /--timeout soon is not a duration/, 2)
  expectCliError(await platform.cli(['up', '--queue-limit', '0']), /--queue-limit 0 is out of range/, 2)
  expectCliError(await platform.cli(['up', '--warm-pool', 'lots']), /--warm-pool lots is out of range/, 2)
  await assertUnchanged()
})

test('apply -f - reads the manifest from standard input, with source paths relative to the working folder', async () => {
  const result = await platform.cli(['apply', '-f', '-'], { cwd: fnDir, input: manifest('from-stdin', 'source: ./stdin.ts') })
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stdout, 'function/from-stdin created (v1)\n')
  const response = await platform.fetch('/fn/from-stdin')
  assert.equal(response.status, 200)
  assert.equal(await response.text(), 'from stdin')

  // Elsewhere the same relative path does not exist, and says where it looked.
  const elsewhere = await platform.cli(['apply', '-f', '-'], { cwd: project, input: manifest('from-stdin', 'source: ./stdin.ts') })
  expectCliError(elsewhere, /<stdin>:1: spec\.source "\.\/stdin\.ts" does not exist/)
})
