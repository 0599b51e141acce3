// Honest status end to end: a version whose module throws at load is shown as
// not ready with the load error, `apply --wait` fails with it (with or without
// an older version serving), and the platform log files it as a warning.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { ok, text } from '../helpers/e2e.js'
import { expectProblem } from '../helpers/problems.js'

interface Condition { type: string, status: string, reason: string, message: string }
interface Status { serving: Array<{ version: number, percent: number }>, conditions: Condition[], versions: Array<{ version: number, conditions: Condition[] }> }

const BROKEN = "throw new Error('boom at load')\nexport default () => new Response('never')\n"
const GOOD = (tag: string): string => `export default () => new Response('${tag}')\n`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({})
})

after(async () => {
  await platform?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

function write (name: string, code: string, scale: string): string {
  writeFileSync(join(dir, `${name}.ts`), code)
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, manifest(name, `source: ./${name}.ts\nscale: { ${scale} }`))
  return file
}

async function status (name: string): Promise<Status> {
  const response = await platform.api(`/apis/roost.dev/v1/namespaces/default/functions/${name}`)
  assert.equal(response.status, 200)
  return (await response.json() as { status: Status }).status
}

function condition (conditions: Condition[], type: string): Condition {
  const found = conditions.find((c) => c.type === type)
  assert.ok(found !== undefined, `no ${type} condition in ${JSON.stringify(conditions)}`)
  return found
}

test('a brand-new function that throws at load: apply --wait fails with the load error, and status says not ready', { timeout: 60_000 }, async () => {
  const result = await platform.cli(['apply', '-f', write('fresh', BROKEN, 'min: 1'), '--wait', '--timeout', '30s'])
  assert.equal(result.code, 1, result.stdout + result.stderr)
  assert.match(result.stderr, /^error: function\/fresh is not serving as applied: v1 cannot start: the module failed to load: .*boom at load.*; nothing serves\nhint: /)
  assert.doesNotMatch(result.stdout, /serving/)

  const { conditions, versions } = await status('fresh')
  const ready = condition(conditions, 'Ready')
  assert.deepEqual([ready.status, ready.reason], ['False', 'StartFailed'])
  assert.match(ready.message, /v1 cannot start: the module failed to load: .*boom at load/)
  assert.deepEqual([condition(conditions, 'RolledOut').status, condition(conditions, 'RolledOut').reason], ['False', 'StartFailed'])
  const v1 = condition(versions.find((v) => v.version === 1)?.conditions ?? [], 'Ready')
  assert.deepEqual([v1.status, v1.reason], ['False', 'StartFailed'])
  await expectProblem(await platform.fetch('/fn/fresh'), 502, 'ROOST_E_START_FAILED')
})

test('a function at zero that throws at load is shown not ready once a request tried it', { timeout: 60_000 }, async () => {
  ok(await platform.cli(['apply', '-f', write('lazy', BROKEN, 'min: 0')]))
  const problem = await expectProblem(await platform.fetch('/fn/lazy'), 502, 'ROOST_E_START_FAILED')
  assert.match(problem.detail, /boom at load/)
  let ready: Condition | undefined
  await waitFor(async () => {
    ready = condition((await status('lazy')).conditions, 'Ready')
    return ready.status === 'False'
  }, 10_000, () => `Ready stays ${JSON.stringify(ready)}`)
  assert.equal(ready?.reason, 'StartFailed')
  assert.match(ready?.message ?? '', /boom at load/)
})

test('a new version that throws at load: apply --wait fails with it, the old version serves, and a fix rolls out', { timeout: 60_000 }, async () => {
  const file = write('rolling', GOOD('r1'), 'min: 1')
  ok(await platform.cli(['apply', '-f', file, '--wait']), 'apply v1 --wait')
  write('rolling', BROKEN, 'min: 1')
  const result = await platform.cli(['apply', '-f', file, '--wait', '--timeout', '30s'])
  assert.equal(result.code, 1, result.stdout + result.stderr)
  assert.match(result.stdout, /function\/rolling configured \(v2\)/)
  assert.match(result.stderr, /^error: function\/rolling is not serving as applied: v2 cannot start: the module failed to load: .*boom at load.*; v1 100% serves\n/)
  assert.equal(await text(platform, '/fn/rolling'), 'r1')
  const { conditions, serving } = await status('rolling')
  assert.equal(condition(conditions, 'Ready').status, 'True', 'v1 still serves')
  assert.equal(condition(conditions, 'RolledOut').reason, 'StartFailed')
  assert.deepEqual(serving, [{ version: 1, percent: 100 }])

  write('rolling', GOOD('r3'), 'min: 1')
  const fixed = ok(await platform.cli(['apply', '-f', file, '--wait', '--timeout', '30s']), 'apply the fix --wait')
  assert.match(fixed, /function\/rolling serving v3 100%/)
  assert.equal(await text(platform, '/fn/rolling'), 'r3')
  assert.deepEqual(condition((await status('rolling')).conditions, 'RolledOut').status, 'True')
})

test('warning events are logged at warn level in roost.log, normal ones at info', { timeout: 30_000 }, async () => {
  const entries = (): Array<{ level: number, event?: { type: string, reason: string } }> => readFileSync(join(platform.home, 'roost.log'), 'utf8')
    .split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { level: number, event?: { type: string, reason: string } })
  await waitFor(() => entries().some((e) => e.event?.reason === 'StartFailed'), 10_000, () => 'no StartFailed line in roost.log')
  const events = entries().filter((e) => e.event !== undefined)
  const startFailed = events.filter((e) => e.event?.reason === 'StartFailed')
  assert.ok(startFailed.length > 0)
  for (const entry of startFailed) assert.equal(entry.level, 40, `StartFailed logged at level ${entry.level}`)
  for (const entry of events) assert.equal(entry.level, entry.event?.type === 'Warning' ? 40 : 30, JSON.stringify(entry))
  assert.ok(events.some((e) => e.event?.reason === 'Started' && e.level === 30))
})
