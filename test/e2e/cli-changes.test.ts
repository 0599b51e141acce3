// Seeing a change before making it (issue 10, item 17: `apply --dry-run=server`
// and `diff`) and the small things a new user hits (item 20), through the CLI
// on a real platform started as `npm start` starts it (`up --example`).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { REPO_ROOT, ROOST_BIN, TestPlatform, manifest, runCli, writeProject, type CliResult } from '../helpers/platform.js'
import { ok, text, versionsOf } from '../helpers/e2e.js'
import { expectCliError } from '../helpers/problems.js'

let platform: TestPlatform
const folders: string[] = []

before(async () => {
  platform = await TestPlatform.start({ args: ['--example'] })
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

function blobCount (): number {
  const root = join(platform.home, 'data', 'blobs')
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length
}

test('apply --dry-run=server says what would happen and stores nothing, not even the bundle', async () => {
  const dir = project({
    'dry.ts': "export default () => new Response('one')\n",
    'roost.yaml': manifest('dry', 'source: ./dry.ts\nenv: { LEVEL: a }')
  })
  const file = join(dir, 'roost.yaml')
  const blobs = blobCount()
  assert.equal(ok(await platform.cli(['apply', '-f', file, '--dry-run=server'])), 'function/dry created (server dry run: would make v1; nothing stored)\n')
  assert.equal((await platform.api('/apis/roost.dev/v1/namespaces/default/functions/dry')).status, 404, 'a dry run created the function')
  assert.equal(blobCount(), blobs, 'a dry run stored a bundle')

  assert.match(ok(await platform.cli(['apply', '-f', file])), /^function\/dry created \(v1\)$/m)
  writeFileSync(join(dir, 'dry.ts'), "export default () => new Response('two')\n")
  assert.equal(ok(await platform.cli(['apply', '-f', file, '--dry-run=server'])), 'function/dry configured (server dry run: would make v2; nothing stored)\n')
  assert.deepEqual((await versionsOf(platform, 'dry')).map((v) => v.number), [1])
  assert.equal(await text(platform, '/fn/dry'), 'one', 'the dry run changed what serves')

  writeFileSync(join(dir, 'dry.ts'), "export default () => new Response('one')\n")
  assert.equal(ok(await platform.cli(['apply', '-f', file, '--dry-run=server'])), 'function/dry unchanged (server dry run: v1 stays; nothing stored)\n')
  writeFileSync(file, manifest('dry', 'source: ./dry.ts\nenv: { LEVEL: a }\nscale: { max: 3 }'))
  const json = JSON.parse(ok(await platform.cli(['apply', '-f', file, '--dry-run=server', '-o', 'json']))) as Array<{ dryRun: boolean, result: string, version: number, newVersion: boolean, manifest: { spec: { scale: { max: number } } } }>
  assert.deepEqual(json.map((a) => [a.dryRun, a.result, a.version, a.newVersion, a.manifest.spec.scale.max]), [[true, 'configured', 1, false, 3]])

  // The platform's checks run too: traffic to a version that does not exist is refused, and nothing changes.
  writeFileSync(file, manifest('dry', 'source: ./dry.ts\nenv: { LEVEL: a }\ntraffic: [{ version: 7, percent: 100 }]'))
  expectCliError(await platform.cli(['apply', '-f', file, '--dry-run=server']), /spec\.traffic\[0\]\.version: version 7 of dry does not exist/)
  expectCliError(await platform.cli(['apply', '-f', file, '--dry-run=client']), /--dry-run=client is not supported/, 2)
  assert.equal((await (await platform.api('/apis/roost.dev/v1/namespaces/default/functions/dry')).json() as { spec: { scale: { max: number } } }).spec.scale.max, 10)
})

test('PUT ?dryRun=All answers what would be stored; another dryRun value is a 422', async () => {
  const body = JSON.stringify({ manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'api-dry' }, spec: { source: { inline: "export default () => new Response('x')", loader: 'ts' } } } })
  const init = { method: 'PUT', headers: { 'content-type': 'application/json' }, body }
  const response = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/api-dry?dryRun=All', init)
  assert.equal(response.status, 201)
  const answer = await response.json() as { dryRun: boolean, result: string, version: number, newVersion: boolean, bundleHash: string, manifest: { spec: { timeout: string } } }
  assert.deepEqual([answer.dryRun, answer.result, answer.version, answer.newVersion], [true, 'created', 1, true])
  assert.match(answer.bundleHash, /^[0-9a-f]{64}$/)
  assert.equal(answer.manifest.spec.timeout, '30s', 'the answer has the spec with its defaults, as it would be stored')
  assert.equal((await platform.api('/apis/roost.dev/v1/namespaces/default/functions/api-dry')).status, 404)
  const bad = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/api-dry?dryRun=yes', init)
  assert.equal(bad.status, 422)
  assert.equal((await platform.api('/apis/roost.dev/v1/namespaces/default/functions/api-dry')).status, 404)
})

test('diff prints a unified diff of the stored function against the file and exits 1, or nothing and 0', async () => {
  const dir = project({
    'differ.ts': "export default () => new Response('one')\n",
    'roost.yaml': manifest('differ', 'source: ./differ.ts\nenv: { LEVEL: a }')
  })
  const file = join(dir, 'roost.yaml')
  const absent = await platform.cli(['diff', '-f', file])
  assert.equal(absent.code, 1, absent.stderr)
  assert.match(absent.stdout, /^--- function\/differ \(default, absent\)\n\+\+\+ function\/differ \(default, .*roost\.yaml:1, would make v1\)\n@@ -0,0 \+1,\d+ @@\n/)
  assert.match(absent.stdout, /^\+ {4}LEVEL: a$/m)
  assert.equal((await platform.api('/apis/roost.dev/v1/namespaces/default/functions/differ')).status, 404, 'diff created the function')

  ok(await platform.cli(['apply', '-f', file]))
  assert.deepEqual(await platform.cli(['diff', '-f', file]), { code: 0, stdout: '', stderr: '' })

  writeFileSync(file, manifest('differ', 'source: ./differ.ts\nenv: { LEVEL: b }'))
  const changed = await platform.cli(['diff', '-f', file])
  assert.equal(changed.code, 1, changed.stderr)
  assert.match(changed.stdout, /^--- function\/differ \(default, live, v1\)$/m)
  assert.match(changed.stdout, /^- {4}LEVEL: a\n\+ {4}LEVEL: b$/m)
  assert.doesNotMatch(changed.stdout, /^[-+]# bundle/m, 'the code did not change')

  writeFileSync(file, manifest('differ', 'source: ./differ.ts\nenv: { LEVEL: a }'))
  writeFileSync(join(dir, 'differ.ts'), "export default () => new Response('two')\n")
  const code = await platform.cli(['diff', '-f', file])
  assert.equal(code.code, 1)
  assert.match(code.stdout, /^-# bundle: sha256:[0-9a-f]{64}\n\+# bundle: sha256:[0-9a-f]{64}$/m)
  assert.deepEqual((await versionsOf(platform, 'differ')).map((v) => v.number), [1], 'diff made a version')

  // An error is not a difference: exit 2, as kubectl diff exits above 1.
  writeFileSync(file, manifest('differ', 'source: ./differ.ts\nmemory: lots'))
  expectCliError(await platform.cli(['diff', '-f', file]), /spec\.memory/, 2)
  expectCliError(await platform.cli(['diff']), /diff needs -f/, 2)
})

test('invoke sends JSON data as application/json, other text as text/plain, and --content-type wins', async () => {
  const dir = project({
    'echo.ts': "export default async (req: Request) => new Response(`${req.headers.get('content-type')}|${await req.text()}`)\n",
    'roost.yaml': manifest('echo-type', 'source: ./echo.ts')
  })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]))
  const invoke = async (args: string[]): Promise<string> => ok(await platform.cli(['invoke', 'echo-type', ...args]))
  assert.equal(await invoke(['--data', '{"a":1}']), 'application/json|{"a":1}')
  assert.equal(await invoke(['--data', '[1,2]']), 'application/json|[1,2]')
  assert.equal(await invoke(['--data', '{not json']), 'text/plain; charset=utf-8|{not json')
  assert.equal(await invoke(['--data', 'world']), 'text/plain; charset=utf-8|world')
  assert.equal(await invoke(['--data', 'a=1', '--content-type', 'application/x-www-form-urlencoded']), 'application/x-www-form-urlencoded|a=1')
  assert.equal(await invoke(['--data', '{"a":1}', '-H', 'Content-Type: text/csv']), 'text/csv|{"a":1}')
  writeFileSync(join(dir, 'body.json'), '{"b":2}')
  assert.equal(await invoke(['--data', `@${join(dir, 'body.json')}`]), 'application/json|{"b":2}')
})

test('invoke: the body as is into a pipe, with a newline added on a terminal; a failed call has an error and a hint', async () => {
  const dir = project({
    'bare.ts': "export default () => new Response('no newline')\n",
    'boom.ts': "export default () => { throw new Error('boom') }\n",
    'roost.yaml': manifest('bare', 'source: ./bare.ts') + '---\n' + manifest('boom', 'source: ./boom.ts')
  })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]))
  assert.equal(ok(await platform.cli(['invoke', 'bare'])), 'no newline', 'into a pipe the bytes are exact')
  const terminal = await inTerminal(['invoke', 'bare'])
  assert.equal(terminal.stdout, 'no newline\r\n', `on a terminal a newline ends the output: ${JSON.stringify(terminal.stdout)}`)

  const failed = expectCliError(await platform.cli(['invoke', 'boom']), /^HTTP 500 Internal Server Error: ROOST_E_\w+/)
  assert.ok(failed.hint.length > 0)
  const missing = expectCliError(await platform.cli(['invoke', 'nothing-here']), /^HTTP 404/)
  assert.match(missing.hint, /roost get functions/)
})

/** Runs the CLI with its standard output on a pseudo-terminal (util-linux `script`). */
async function inTerminal (args: string[]): Promise<CliResult> {
  const command = [process.execPath, ROOST_BIN, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ')
  return await new Promise((resolve) => {
    execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ROOST_HOME: platform.home } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
    })
  })
}

test('up --example prints the URL quoted (zsh globs an unquoted ?) and how to run this CLI', async () => {
  assert.match(platform.output, /^ {2}curl 'http:\/\/127\.0\.0\.1:\d+\/fn\/hello\?name=roost'$/m)
  assert.match(platform.output, /^ {2}(bin\/roost|roost|\S+\/bin\/roost) invoke hello --data world$/m)
})

test('init writes paths relative to the function folder and prints the command as it can be run from here', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'roost-init-'))
  folders.push(parent)
  const target = join(parent, 'greet')
  // From the clone, with no `roost` on PATH: the tour's bin/roost.
  const result = ok(await runCli(['init', 'greet', '--dir', target], { cwd: REPO_ROOT, env: { PATH: dirname(process.execPath) } }))
  assert.match(result, /^ {2}deploy: {2}bin\/roost apply -f .*greet\/roost\.yaml$/m)
  assert.match(result, /^ {2}call: {4}bin\/roost invoke greet --data world$/m)
  const pkg = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  const types = pkg.devDependencies['@roost/types']
  assert.match(types, /^file:\.\.?\//, `a relative path: ${types}`)
  assert.equal(resolve(target, types.slice('file:'.length)), resolve(REPO_ROOT, 'types'))
  const schema = /\$schema=(\S+)/.exec(readFileSync(join(target, 'roost.yaml'), 'utf8'))?.[1] ?? ''
  assert.equal(resolve(target, schema), resolve(REPO_ROOT, 'schema', 'function.schema.json'))
})

test('an unknown flag is one line naming the flag and the command, and one hint', async () => {
  const unknown = expectCliError(await platform.cli(['get', 'functions', '--foo']), /^unknown flag --foo for roost get$/, 2)
  assert.equal(unknown.hint, 'see `roost get --help`')
  expectCliError(await platform.cli(['apply', '-x']), /^unknown flag -x for roost apply$/, 2)
  expectCliError(await platform.cli(['logs', 'hello', '--since']), /^flag --since of roost logs needs a value$/, 2)
  const result = await platform.cli(['get', 'functions', '--foo'])
  assert.equal(result.stderr.split('\n').filter((line) => line !== '').length, 2, result.stderr)
})

test('bin/roost keeps --env-file for roost: node does not read it first', async () => {
  // Run as a user runs it, through its #! line, not as `node bin/roost`.
  const result = await new Promise<CliResult>((resolve) => {
    execFile(ROOST_BIN, ['get', 'functions', '--env-file', 'missing.env'], { env: { ...process.env, ROOST_HOME: platform.home } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
    })
  })
  expectCliError(result, /^unknown flag --env-file for roost get$/, 2)
  assert.match(ok(await new Promise<CliResult>((resolve) => {
    execFile(ROOST_BIN, ['get', 'functions', 'hello'], { env: { ...process.env, ROOST_HOME: platform.home } }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : 1, stdout, stderr }))
  })), /^hello\s+default\s+v1/m)
})

test('rollback --to a newer version says it rolled forward', async () => {
  const dir = project({ 'fwd.ts': "export default () => new Response('1')\n", 'roost.yaml': manifest('fwd', 'source: ./fwd.ts') })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]))
  writeFileSync(join(dir, 'fwd.ts'), "export default () => new Response('2')\n")
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]))
  assert.equal(ok(await platform.cli(['rollback', 'fwd'])), 'function/fwd rolled back from v2 to v1\n')
  assert.equal(ok(await platform.cli(['rollback', 'fwd', '--to', 'v2'])), 'function/fwd rolled forward from v1 to v2\n')
  assert.equal(ok(await platform.cli(['rollback', 'fwd', '--to', '2'])), 'function/fwd already serves v2: all traffic moved to it\n')
})
