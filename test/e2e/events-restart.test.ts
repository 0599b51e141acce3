// Queues and cron across a crash of the platform (issue 12): kill -9 in the
// middle of batches loses no message that publish answered (those leased
// come back once their lease runs out and are delivered again), and a cron
// trigger keeps firing on its schedule across a kill and restart without
// firing a time twice. The platform runs as a child (as in restart.test.ts).
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { ok, waitForExit } from '../helpers/e2e.js'
import { publish, queueOf, Witness } from '../helpers/events.js'

// One message after another, 250 ms each, each reported as soon as it is done:
// a kill lands between a message's work and its batch's settlement.
const STEADY = `
export default {
  async queue (batch) {
    for (const message of batch) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ n: message.body.n, attempt: message.attempt }) })
    }
  }
}
`
const TICKER = `
export default {
  async scheduled (event) {
    await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ id: event.id, scheduledTime: event.scheduledTime, cron: event.cron }) })
  }
}
`

const folders: string[] = []
const running = new Set<TestPlatform>()
const witnesses: Witness[] = []

after(async () => {
  for (const platform of running) await platform.stop()
  for (const witness of witnesses) await witness.close()
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

async function start (home?: string): Promise<TestPlatform> {
  const platform = await TestPlatform.start({ home })
  running.add(platform)
  if (home === undefined) folders.push(platform.home)
  return platform
}

async function kill (platform: TestPlatform): Promise<void> {
  await platform.kill()
  running.delete(platform)
}

async function pids (platform: TestPlatform): Promise<number[]> {
  return (await platform.instances()).map((i) => i.pid).filter((pid) => typeof pid === 'number')
}

test('kill -9 mid-batch loses no published message: after the restart every one is processed', { timeout: 120_000 }, async (t) => {
  const witness = await Witness.start()
  witnesses.push(witness)
  const dir = writeProject({ 'steady.ts': STEADY })
  folders.push(dir)
  writeFileSync(join(dir, 'roost.yaml'), manifest('steady', `source: ./steady.ts
env: { WITNESS: "${witness.url}" }
timeout: 10s
concurrency: 10
scale: { min: 1, max: 1 }
triggers:
  - queue: { name: work, batch: 5, maxBatchWait: 0ms, visibility: 3s, backoff: { initial: 100ms, max: 200ms } }`))
  const first = await start()
  ok(await first.cli(['apply', '-f', join(dir, 'roost.yaml'), '--wait']), 'apply')
  const published = await publish(first, 'work', Array.from({ length: 40 }, (_, n) => ({ body: { n } })))
  assert.equal(published.length, 40)
  // Some batches done, two (of 5, 10 in flight) in the middle of their work.
  await waitFor(() => witness.reports.length >= 12, 30_000, () => `only ${witness.reports.length} processed`)
  const before = await queueOf(first, 'work')
  const instancePids = await pids(first)
  await kill(first)
  t.diagnostic(`killed with ${witness.reports.length} processed, ${before.leased} leased, ${before.depth} waiting`)
  assert.ok(before.leased > 0, 'the kill came while messages were leased')
  await waitForExit(instancePids, 15_000)

  const second = await start(first.home)
  await waitFor(async () => {
    const queue = await queueOf(second, 'work')
    return queue.backlog === 0 && witness.countBy('n').size === 40
  }, 60_000, () => `processed ${witness.countBy('n').size} of 40 after the restart`)
  const counts = witness.countBy('n')
  assert.deepEqual([...counts.keys()].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 40 }, (_, n) => n), 'every published message was processed')
  assert.equal((await queueOf(second, 'work')).dead, 0)
  const again = [...counts.values()].reduce((sum, n) => sum + n - 1, 0)
  assert.ok(witness.reports.some((r) => Number(r.attempt) > 1), 'the messages leased at the kill came back as a further attempt')
  t.diagnostic(`${again} messages processed twice: those worked on when the platform died, before their batch settled (at least once)`)
})

test('a cron trigger fires each minute across a kill -9 and restart, never a time twice', { timeout: 180_000 }, async (t) => {
  const witness = await Witness.start()
  witnesses.push(witness)
  const dir = writeProject({ 'ticker.ts': TICKER })
  folders.push(dir)
  writeFileSync(join(dir, 'roost.yaml'), manifest('ticker', `source: ./ticker.ts
env: { WITNESS: "${witness.url}" }
timeout: 5s
triggers:
  - cron: { schedule: "* * * * *", catchUp: latest, catchUpWindow: 10m }`))
  const first = await start()
  ok(await first.cli(['apply', '-f', join(dir, 'roost.yaml')]), 'apply')
  const triggers = ok(await first.cli(['get', 'triggers']))
  assert.match(triggers, /^ticker\s+cron\s+ticker\.0\s+\* \* \* \* \*\s+<never>\s+\d{4}-\d\d-\d\dT\d\d:\d\d:00Z\s+0$/m)

  await waitFor(() => witness.reports.length === 1, 70_000, () => 'no firing within a minute')
  const firstTime = Number(witness.reports[0]?.scheduledTime)
  assert.equal(firstTime % 60_000, 0, 'a firing names its scheduled minute')
  assert.equal(witness.reports[0]?.cron, '* * * * *')
  // Settled before the kill: the test is about firing, not about redelivering an unsettled one.
  await waitFor(async () => await cronBacklog(first) === 0, 10_000, () => 'the firing did not settle')
  await kill(first)

  const second = await start(first.home)
  assert.match(ok(await second.cli(['get', 'triggers'])), new RegExp(`ticker\\.0\\s+\\* \\* \\* \\* \\*\\s+${new Date(firstTime).toISOString().replace('.000Z', 'Z')}\\s`), 'the last firing survives the restart')
  await waitFor(() => witness.reports.length === 2, 70_000, () => 'no firing after the restart')
  const times = witness.reports.map((r) => Number(r.scheduledTime))
  assert.deepEqual(times, [firstTime, firstTime + 60_000], 'the next minute, once; the one before not again')
  assert.equal(new Set(witness.reports.map((r) => r.id)).size, 2)
  t.diagnostic(`fired ${times.map((time) => new Date(time).toISOString()).join(', ')}`)
})

async function cronBacklog (platform: TestPlatform): Promise<number> {
  const response = await platform.api('/apis/roost.dev/v1/namespaces/default/triggers')
  const { items } = await response.json() as { items: Array<{ name: string, backlog: number }> }
  return items.find((item) => item.name === 'ticker.0')?.backlog ?? -1
}
