// Scaling a queue's workers down (issue 12): a scale-down while every worker
// holds messages ("Instances draining for scale-down … finish those they
// hold, and only then stop": the instances chosen to stop take no new
// message, finish theirs, and the messages end after one attempt each), and
// a worker at zero started by the first message and kept while it works
// (to zero only when the queue is empty and the last message finished
// scaleDownDelay ago).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { instancesOf, ok } from '../helpers/e2e.js'
import { functionEvents, publish, queueOf, Witness } from '../helpers/events.js'

const CHORE = `
export default {
  async queue (batch) {
    for (const message of batch) {
      await new Promise((resolve) => setTimeout(resolve, 3000))
      await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ n: message.body.n, attempt: message.attempt, pid: process.pid }) })
    }
  }
}
`

let platform: TestPlatform
let witness: Witness
let dir: string

function chores (scale: string): string {
  return manifest('chores', `source: ./chores.ts
env: { WITNESS: "${witness.url}" }
timeout: 10s
concurrency: 2
scale: ${scale}
triggers:
  - queue: { name: chores, batch: 1, maxBatchWait: 0ms }`)
}

before(async () => {
  platform = await TestPlatform.start()
  witness = await Witness.start()
  dir = writeProject({ 'chores.ts': CHORE })
})

after(async () => {
  await platform?.stop()
  await witness?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

test('workers drained by a scale-down finish the messages they hold: each message ends after one attempt', { timeout: 90_000 }, async () => {
  writeFileSync(join(dir, 'roost.yaml'), chores('{ min: 3, max: 3 }'))
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml'), '--wait']), 'apply')
  await waitFor(async () => (await instancesOf(platform, 'chores')).filter((i) => i.state === 'ready').length === 3, 30_000, () => 'three ready workers')
  // 3 workers × 2 in flight: all six are taken at once, two per worker.
  await publish(platform, 'chores', Array.from({ length: 6 }, (_, n) => ({ body: { n } })))
  await waitFor(async () => (await queueOf(platform, 'chores')).leased === 6, 10_000, () => 'the six are not all in work')
  assert.equal(witness.reports.length, 0)

  writeFileSync(join(dir, 'roost.yaml'), chores('{ min: 1, max: 1 }'))
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]), 'scale down')
  await waitFor(async () => (await instancesOf(platform, 'chores')).filter((i) => i.state === 'draining').length === 2, 10_000, () => 'two workers are not draining')
  assert.ok(witness.reports.length < 6, 'the drain began while they still held messages')

  await waitFor(async () => witness.reports.length === 6 && (await queueOf(platform, 'chores')).backlog === 0, 30_000, () => `${witness.reports.length} of 6 done`)
  assert.deepEqual(witness.reports.map((r) => r.n).sort(), [0, 1, 2, 3, 4, 5], 'each message once')
  assert.ok(witness.reports.every((r) => r.attempt === 1), `one attempt each: ${JSON.stringify(witness.reports)}`)
  assert.equal(new Set(witness.reports.map((r) => r.pid)).size, 3, 'the drained workers finished their own')
  assert.equal((await queueOf(platform, 'chores')).dead, 0)
  await waitFor(async () => (await instancesOf(platform, 'chores')).length === 1, 30_000, () => 'the drained workers did not stop')
})

test('a message at zero workers starts one at once; it is not stopped while it works, and goes to zero once the queue is done', { timeout: 90_000 }, async () => {
  writeFileSync(join(dir, 'napper.yaml'), manifest('napper', `source: ./chores.ts
env: { WITNESS: "${witness.url}" }
timeout: 10s
scale: { min: 0, max: 2, window: 6s, scaleDownDelay: 1s }
triggers:
  - queue: { name: naps, batch: 1 }`))
  ok(await platform.cli(['apply', '-f', join(dir, 'napper.yaml')]), 'apply')
  // A new version starts once, then goes to zero without work.
  await waitFor(async () => (await functionEvents(platform, 'napper')).some((e) => e.reason === 'ScaledDown' && / → 0 instances/.test(e.message)) &&
    (await instancesOf(platform, 'napper')).length === 0, 30_000, () => 'napper did not go to zero')
  const seen = witness.reports.length
  await publish(platform, 'naps', [{ body: { n: 100 } }])
  // The work (3 s) outlasts scaleDownDelay (1 s): a leased message keeps its worker.
  await waitFor(() => witness.reports.length === seen + 1, 30_000, () => 'the nap was not taken')
  assert.deepEqual(witness.reports.at(-1), { n: 100, attempt: 1, pid: witness.reports.at(-1)?.pid })
  const events = await functionEvents(platform, 'napper')
  const up = events.filter((e) => e.reason === 'ScaledUp').at(-1)
  assert.match(up?.message ?? '', /0 → 1 instances \(a request arrived with no instance running/, 'started on enqueue')
  await waitFor(async () => (await instancesOf(platform, 'napper')).length === 0, 30_000, () => 'napper did not go back to zero')
  const down = (await functionEvents(platform, 'napper')).filter((e) => e.reason === 'ScaledDown').at(-1)
  assert.match(down?.message ?? '', /1 → 0 instances \(no request for the scale-down delay/)
})
