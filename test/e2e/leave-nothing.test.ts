// The test helpers leave no process behind, whatever the test does: a test
// process that fails with its platform running, that is told to stop by the
// runner, or that killed its platform with -9 (leaving the platform's runtime
// processes orphaned), ends with every process of that platform gone.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { waitFor, writeProject } from '../helpers/platform.js'
import { killGroup, stillRunning } from '../helpers/leave-nothing.js'

const dir = writeProject({})
const seen: number[] = []
after(() => {
  for (const pgid of seen) killGroup(pgid)
  rmSync(dir, { recursive: true, force: true })
})

const helpers = pathToFileURL(join(import.meta.dirname, '../helpers/platform.js')).href
const groups = pathToFileURL(join(import.meta.dirname, '../helpers/leave-nothing.js')).href

/** A test process: starts a platform, waits for its warm pool, says its group, then does `ending`. */
async function runTestProcess (ending: string): Promise<{ pgid: number, code: number | null, signal: NodeJS.Signals | null, members: number[] }> {
  const script = join(dir, `test-${seen.length}.mjs`)
  writeFileSync(script, `
import { TestPlatform, waitFor } from ${JSON.stringify(helpers)}
import { familyOf } from ${JSON.stringify(groups)}
const platform = await TestPlatform.start({ args: ['--warm-pool', '2'] })
// roost up and its two warm-pool runtimes
await waitFor(() => familyOf(platform.pid).length >= 3, 20_000, () => 'the warm pool did not fill')
process.stdout.write('GROUP ' + platform.pid + ' ' + familyOf(platform.pid).map((p) => p.pid).join(',') + '\\n')
${ending}
`)
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])))
  await waitFor(() => /GROUP \d+ [\d,]+/.test(out) || child.exitCode !== null, 30_000, () => out)
  const [, pgid, members] = /GROUP (\d+) ([\d,]+)/.exec(out) ?? assert.fail(`the test process did not start its platform:\n${out}`)
  seen.push(Number(pgid))
  if (ending.includes('SIGTERM-ME')) child.kill('SIGTERM')
  const [code, signal] = await exited
  return { pgid: Number(pgid), code, signal, members: members.split(',').map(Number) }
}

/** The platform and every process it had started are gone. */
async function assertAllGone (pids: number[]): Promise<void> {
  await waitFor(() => stillRunning(pids).length === 0, 5_000, () => `left behind: ${stillRunning(pids).map((p) => `${p.pid} ${p.args}`).join('; ')}`)
}

test('a test that fails with its platform running leaves none of its processes behind', { timeout: 60_000 }, async () => {
  const result = await runTestProcess("throw new Error('the test failed')")
  assert.notEqual(result.code, 0)
  assert.ok(result.members.length >= 3)
  await assertAllGone(result.members)
})

test('a test process stopped by the runner (SIGTERM) leaves none of its processes behind', { timeout: 60_000 }, async () => {
  const result = await runTestProcess("// SIGTERM-ME\nsetInterval(() => {}, 1000)")
  assert.equal(result.signal, 'SIGTERM')
  await assertAllGone(result.members)
})

test('the runtimes a platform killed with -9 left behind are gone once the test process ends', { timeout: 60_000 }, async () => {
  const result = await runTestProcess('await platform.kill()')
  assert.equal(result.code, 0)
  await assertAllGone(result.members)
})
