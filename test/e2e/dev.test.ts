// `roost dev` (issue 10, item 18): a function served locally by the platform's
// runtime, rebuilt and restarted on every save, with no platform running.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOST_BIN, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { CliChild, waitForExit } from '../helpers/e2e.js'
import { familyOf, stillRunning } from '../helpers/leave-nothing.js'

const folders: string[] = []
const children: CliChild[] = []
const runtimes = new Set<number>()

after(async () => {
  for (const child of children) await child.kill('SIGKILL')
  // A failed test may leave a runtime whose roost dev is gone: it is ended here, by its pid (if that pid is still a runtime).
  for (const entry of stillRunning([...runtimes])) {
    if (!entry.args.includes('serve.js')) continue
    try { process.kill(entry.pid, 'SIGKILL') } catch {}
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

function project (files: Record<string, string>): string {
  const dir = writeProject(files)
  folders.push(dir)
  return dir
}

/** `roost dev ARGS` with a temporary folder of its own, so that what it leaves there can be seen. */
function startDev (args: string[]): { dev: CliChild, tmp: string } {
  const tmp = mkdtempSync(join(tmpdir(), 'roost-dev-test-'))
  folders.push(tmp)
  const child = spawn(process.execPath, [ROOST_BIN, 'dev', ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] })
  const dev = new CliChild(child)
  children.push(dev)
  return { dev, tmp }
}

async function urlOf (dev: CliChild): Promise<string> {
  const serving = /^roost dev: serving (\S+) at '(http:\/\/[^']+)'$/m
  await waitFor(() => serving.test(dev.stdout) || !dev.running, 20_000, () => `no serving line; stdout: ${dev.stdout} stderr: ${dev.stderr}`)
  const match = serving.exec(dev.stdout)
  assert.ok(match !== null, `roost dev ended without serving: ${dev.stderr}`)
  return match[2]
}

/** The body at url, or undefined while nothing answers (a restart in between). */
async function bodyOf (url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url)
    return await response.text()
  } catch {
    return undefined
  }
}

async function waitForBody (url: string, wanted: string, dev: CliChild): Promise<void> {
  let last: string | undefined
  await waitFor(async () => (last = await bodyOf(url)) === wanted, 20_000, () => `wanted "${wanted}", last answer ${String(last)}; stderr: ${dev.stderr}`)
}

function runtimesOf (dev: CliChild): number[] {
  const pids = familyOf(dev.pid).filter((p) => p.args.includes('serve.js')).map((p) => p.pid)
  for (const pid of pids) runtimes.add(pid)
  return pids
}

const HANDLER = (body: string): string => `export default (req: Request) => {
  console.log('served', new URL(req.url).pathname)
  return new Response(\`${body} \${process.env.GREETING} \${process.env.ROOST_FUNCTION}\`)
}
`

test('roost dev serves the function, reloads it on save, keeps the old version through a build error, and SIGINT leaves nothing', async () => {
  const dir = project({
    'fn.ts': HANDLER('one'),
    'roost.yaml': manifest('local', 'source: ./fn.ts\nenv: { GREETING: hi }')
  })
  const { dev, tmp } = startDev([dir, '--port', '0'])
  const url = await urlOf(dev)
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  assert.equal(await bodyOf(`${url}first`), 'one hi local', 'the manifest\'s env and the function\'s name reach the handler')
  await waitFor(() => /^\d{4}-\d\d-\d\dT[\d:.]+Z info \S+ served \/first$/m.test(dev.stdout), 10_000, () => `no log line; stdout: ${dev.stdout}`)
  const seen = new Set(runtimesOf(dev))
  assert.equal(seen.size, 1, 'one runtime serves')

  writeFileSync(join(dir, 'fn.ts'), HANDLER('two'))
  await waitForBody(url, 'two hi local', dev)
  await waitFor(() => dev.stdout.includes(`roost dev: reloaded local at '${url}'`), 10_000, () => `no reload line; stdout: ${dev.stdout}`)
  for (const pid of runtimesOf(dev)) seen.add(pid)
  assert.equal(seen.size, 2, 'the save restarted the runtime')

  writeFileSync(join(dir, 'fn.ts'), HANDLER('three').replace('return new', 'return return new'))
  await waitFor(() => /^error: fn\.ts:3:\d+: /m.test(dev.stderr), 20_000, () => `no build error; stderr: ${dev.stderr}`)
  assert.match(dev.stderr, /^hint: .*previous version keeps serving/m)
  assert.equal(await bodyOf(url), 'two hi local', 'the previous version keeps answering after a build error')

  writeFileSync(join(dir, 'roost.yaml'), manifest('local', 'source: ./fn.ts\nenv: { GREETING: hello }'))
  writeFileSync(join(dir, 'fn.ts'), HANDLER('four'))
  await waitForBody(url, 'four hello local', dev)
  for (const pid of runtimesOf(dev)) seen.add(pid)

  dev.child.kill('SIGINT')
  assert.equal(await dev.exited, 0, `roost dev exits 0 on SIGINT; stderr: ${dev.stderr}`)
  await waitForExit([...seen])
  assert.equal(await bodyOf(url), undefined, 'nothing answers at the URL any more')
  assert.deepEqual(readdirSync(tmp), [], 'roost dev removed its temporary folder')
})

test('a runtime ends by itself when roost dev is killed with -9', async () => {
  const dir = project({ 'hello.ts': "export default () => new Response('hello')\n" })
  const { dev } = startDev([join(dir, 'hello.ts'), '--port', '0'])
  const url = await urlOf(dev)
  assert.equal(await bodyOf(url), 'hello', 'a bare source file is served too')
  const serving = runtimesOf(dev)
  assert.equal(serving.length, 1)
  await dev.kill('SIGKILL')
  await waitForExit(serving)
})

test('roost dev says what is wrong, in one line of cause and one of hint', async () => {
  const empty = project({ 'README.md': 'nothing here\n' })
  const two = project({
    'a.ts': "export default () => new Response('a')\n",
    'roost.yaml': manifest('a', 'source: ./a.ts') + '---\n' + manifest('b', 'source: ./a.ts')
  })
  const broken = project({ 'fn.ts': 'export default () => {\n', 'roost.yaml': manifest('broken', 'source: ./fn.ts') })
  const cases: Array<{ args: string[], code: number, cause: RegExp }> = [
    { args: [empty], code: 2, cause: /holds no roost\.yaml/ },
    { args: [join(two, 'roost.yaml')], code: 2, cause: /holds 2 functions; roost dev runs one/ },
    { args: [broken], code: 1, cause: /fn\.ts:2:\d+: / },
    { args: [broken, '--port', 'http'], code: 2, cause: /--port must be a port number/ }
  ]
  for (const { args, code, cause } of cases) {
    const { dev } = startDev(args)
    assert.equal(await dev.exited, code, `roost dev ${args.join(' ')}: ${dev.stderr}`)
    const lines = dev.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 2, `one line of cause, one of hint: ${dev.stderr}`)
    assert.match(lines[0], new RegExp(`^error: .*${cause.source}`))
    assert.match(lines[1], /^hint: /)
  }

  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const port = (taken.address() as { port: number }).port
  try {
    const { dev, tmp } = startDev([join(two, 'a.ts'), '--port', String(port)])
    assert.equal(await dev.exited, 1, dev.stderr)
    assert.match(dev.stderr, new RegExp(`^error: roost dev cannot listen on 127\\.0\\.0\\.1:${port} is in use$`, 'm'))
    assert.match(dev.stderr, /^hint: .*--port/m)
    assert.deepEqual(readdirSync(tmp), [])
  } finally {
    taken.close()
  }
})

test('a function that throws at load is reported with its own file:line, and the save that fixes it serves it', async () => {
  const dir = project({
    'fn.ts': "const ready = false\nif (!ready) throw new Error('not ready')\nexport default () => new Response('never')\n",
    'roost.yaml': manifest('loader', 'source: ./fn.ts')
  })
  const { dev, tmp } = startDev([dir, '--port', '0'])
  await waitFor(() => dev.stderr.includes('error: loader failed to start') || !dev.running, 20_000, () => `no start failure; stderr: ${dev.stderr}`)
  assert.ok(dev.running, `roost dev waits for a fix: ${dev.stderr}`)
  assert.ok(dev.stderr.includes(`${join(dir, 'fn.ts')}:2:`), `the stack names the source file being edited: ${dev.stderr}`)

  writeFileSync(join(dir, 'fn.ts'), "export default () => new Response('fixed')\n")
  const url = await urlOf(dev)
  assert.equal(await bodyOf(url), 'fixed')
  const serving = runtimesOf(dev)
  dev.child.kill('SIGTERM')
  assert.equal(await dev.exited, 0)
  await waitForExit(serving)
  assert.deepEqual(readdirSync(tmp), [])
})
