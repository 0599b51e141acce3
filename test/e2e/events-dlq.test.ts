// Dead letters and bad input on a real platform (issue 12): a poison message
// uses its attempts and lands in the DLQ with every attempt's error while the
// good ones of its batch go through; once the code is fixed, a replay
// processes it. Bad input (an unknown queue, a body over the limit, a full
// queue, a bad cron expression or time zone) is refused with its field.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { ok } from '../helpers/e2e.js'
import { deadOf, publish, queueOf, Witness } from '../helpers/events.js'
import { expectCliError, expectProblem } from '../helpers/problems.js'

// A message with { poison: true } throws until the FIXED variable is set (a new version, as a fix would be).
const PICKY = `
export default {
  async queue (batch, ctx) {
    for (const message of batch) {
      if (message.body.poison === true && process.env.FIXED !== 'yes') {
        message.retry()
        continue
      }
      await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ n: message.body.n, attempt: message.attempt }) })
      message.ack()
    }
  }
}
`
const THROWS = `
export default {
  async queue (batch) {
    if (batch.some((m) => m.body.poison === true)) throw new Error('cannot parse order ' + batch.find((m) => m.body.poison).body.n)
  }
}
`

let platform: TestPlatform
let witness: Witness
let dir: string

function pickyManifest (fixed: boolean): string {
  return manifest('picky', `source: ./picky.ts
env: { WITNESS: "${witness.url}"${fixed ? ', FIXED: "yes"' : ''} }
triggers:
  - queue: { name: jobs, batch: 5, maxBatchWait: 100ms, maxAttempts: 3, backoff: { initial: 50ms, max: 100ms } }`)
}

before(async () => {
  platform = await TestPlatform.start()
  witness = await Witness.start()
  dir = writeProject({ 'picky.ts': PICKY, 'throws.ts': THROWS })
  writeFileSync(join(dir, 'picky.yaml'), pickyManifest(false))
  writeFileSync(join(dir, 'throws.yaml'), manifest('throws', `source: ./throws.ts
triggers:
  - queue: { name: tiny, maxAttempts: 2, backoff: { initial: 50ms, max: 50ms }, maxDepth: 3 }`))
  ok(await platform.cli(['apply', '-f', join(dir, 'picky.yaml')]), 'apply picky')
  ok(await platform.cli(['apply', '-f', join(dir, 'throws.yaml')]), 'apply throws')
})

after(async () => {
  await platform?.stop()
  await witness?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

test('a poison message uses its attempts and is dead with each one kept; its batch\'s good messages go through once; fixed and replayed, it is processed', { timeout: 90_000 }, async () => {
  const [good1, poison, good2] = await publish(platform, 'jobs', [{ body: { n: 1 } }, { body: { n: 2, poison: true } }, { body: { n: 3 } }])
  await waitFor(async () => (await queueOf(platform, 'jobs')).dead === 1, 30_000, () => 'the poison message is not dead')
  const [dead] = await deadOf(platform, 'jobs')
  assert.equal(dead?.id, poison?.id)
  assert.deepEqual(dead?.body, { n: 2, poison: true })
  assert.equal(dead?.attempts, 3)
  assert.deepEqual(dead?.history.filter((a) => a.counted).map((a) => a.outcome), ['retry', 'retry', 'retry'])
  assert.match(dead?.reason ?? '', /no attempts left/)
  assert.deepEqual([...witness.countBy('n').entries()].sort(), [[1, 1], [3, 1]], 'the good ones once each')
  assert.ok(good1 !== undefined && good2 !== undefined)

  const listed = ok(await platform.cli(['dlq', 'list', 'jobs']))
  assert.match(listed, new RegExp(`^${poison?.id}\\s+3/3\\s`, 'm'))

  // The fix: a new version. Then the replay.
  writeFileSync(join(dir, 'picky.yaml'), pickyManifest(true))
  ok(await platform.cli(['apply', '-f', join(dir, 'picky.yaml'), '--wait']), 'apply the fix')
  assert.match(ok(await platform.cli(['dlq', 'replay', 'jobs', '--id', poison?.id as string])), /^1 dead message of queue jobs replayed$/m)
  // The handler reports before its batch settles: both are waited for.
  await waitFor(async () => witness.countBy('n').get(2) === 1 && (await queueOf(platform, 'jobs')).backlog === 0, 30_000, () => 'the replayed message was not processed')
  assert.equal((await queueOf(platform, 'jobs')).dead, 0)
  assert.deepEqual(witness.reports.find((r) => r.n === 2), { n: 2, attempt: 1 }, 'a replay starts with a fresh set of attempts')
})

test('a handler that throws fails its whole batch with the error; purge empties the dead letters', { timeout: 60_000 }, async () => {
  const [poison] = await publish(platform, 'tiny', [{ body: { n: 7, poison: true } }])
  await waitFor(async () => (await queueOf(platform, 'tiny')).dead === 1, 30_000, () => 'not dead')
  const [dead] = await deadOf(platform, 'tiny')
  assert.deepEqual(dead?.history.filter((a) => a.counted).map((a) => [a.outcome, a.error]), [
    ['retry', 'cannot parse order 7'], ['retry', 'cannot parse order 7']
  ])
  assert.match(ok(await platform.cli(['dlq', 'purge', 'tiny', '--all'])), /^1 dead message of queue tiny purged$/m)
  assert.deepEqual(await deadOf(platform, 'tiny'), [])
  assert.ok(poison !== undefined)
})

test('bad input is refused with its field: an unknown queue, a body over the limit, a full queue (429 with Retry-After), a bad delay', async () => {
  const post = async (queue: string, body: unknown): Promise<Response> => await platform.api(`/apis/roost.dev/v1/namespaces/default/queues/${queue}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  const unknown = await expectProblem(await post('nowhere', { body: 1 }), 404, 'ROOST_E_NOT_FOUND')
  assert.equal(unknown.field, 'queue')
  const internal = await expectProblem(await post('cron.picky.0', { body: 1 }), 422, 'ROOST_E_VALIDATION')
  assert.equal(internal.field, 'queue')
  const large = await expectProblem(await post('jobs', { messages: [{ body: 'x' }, { body: 'y'.repeat(300 * 1024) }] }), 413, 'ROOST_E_PAYLOAD_TOO_LARGE')
  assert.equal(large.field, 'messages[1].body')
  const delay = await expectProblem(await post('jobs', { body: 1, delay: 'soon' }), 422, 'ROOST_E_VALIDATION')
  assert.equal(delay.field, 'delay')

  // tiny holds 3 at most; its consumer throws on poison, so they wait out their backoff.
  await publish(platform, 'tiny', [{ body: { poison: true }, delay: '1m' }, { body: { poison: true }, delay: '1m' }, { body: { poison: true }, delay: '1m' }])
  const full = await post('tiny', { body: { n: 4 } })
  assert.equal(full.headers.get('retry-after'), '1')
  const problem = await expectProblem(full, 429, 'ROOST_E_QUEUE_FULL')
  assert.equal(problem.field, 'queue')
  expectCliError(await platform.cli(['publish', 'tiny', '--data', '{"n":5}']), /queue default\/tiny is full/)
  expectCliError(await platform.cli(['publish', 'nowhere', '--data', 'x']), /no queue nowhere in namespace default/)
})

test('a namespace token reaches its own namespace\'s queues only', async () => {
  const created = await platform.api('/apis/roost.dev/v1/namespaces/team-b/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  const { token } = await created.json() as { token: string }
  const asTeamB = async (path: string, init: RequestInit = {}): Promise<Response> => await platform.api(path, { ...init, token })
  await expectProblem(await asTeamB('/apis/roost.dev/v1/namespaces/default/queues/jobs/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"body":1}' }), 403, 'ROOST_E_FORBIDDEN')
  await expectProblem(await asTeamB('/apis/roost.dev/v1/namespaces/default/queues/jobs/dead'), 403, 'ROOST_E_FORBIDDEN')
  const all = await asTeamB('/apis/roost.dev/v1/queues')
  assert.deepEqual((await all.json() as { items: unknown[] }).items, [], 'the queues of other namespaces are not listed')
})

test('a bad cron expression and a bad time zone are refused at apply, each at its line and field', async () => {
  const text = manifest('clock', 'source: ./picky.ts\ntriggers:\n  - cron: { schedule: "61 * * * *" }\n  - cron: { schedule: "@hourly", timezone: Mars/Olympus }')
  writeFileSync(join(dir, 'clock.yaml'), text)
  const result = await platform.cli(['apply', '-f', join(dir, 'clock.yaml')])
  const line = (needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1
  expectCliError(result, new RegExp(`clock\\.yaml:${line('61 *')}:\\d+: spec\\.triggers\\[0\\]\\.cron\\.schedule: "61 \\* \\* \\* \\*" is not a cron expression`))
  assert.match(result.stderr, /spec\.triggers\[1\]\.cron\.timezone: "Mars\/Olympus" is not an IANA time zone/)
  const response = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/clock')
  assert.equal(response.status, 404, 'nothing was applied')
})

test('a second function may not consume a queue another one consumes', async () => {
  writeFileSync(join(dir, 'thief.yaml'), manifest('thief', 'source: ./picky.ts\ntriggers:\n  - queue: { name: jobs }'))
  expectCliError(await platform.cli(['apply', '-f', join(dir, 'thief.yaml')]), /queue jobs in namespace default is consumed by function picky already/)
})
