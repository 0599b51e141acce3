// The store of the queue-scaling references (issue 12), on a real platform
// with examples/store as it ships: a burst of orders through the `orders`
// function (ctx.publish), `fulfil` workers growing to ⌈backlog / 10⌉ capped
// at 10, the queue draining, every accepted order fulfilled, and the workers
// shrinking back to 1. Each fulfilled order is reported to a witness server
// of the test's own (FULFIL_LOG_URL), so processed is counted against accepted.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { REPO_ROOT, TestPlatform, waitFor, writeProject } from '../helpers/platform.js'
import { instancesOf, ok } from '../helpers/e2e.js'
import { functionEvents, queueOf, Witness } from '../helpers/events.js'

const EXAMPLE = join(REPO_ROOT, 'examples', 'store')
const ORDERS = 300
/** Orders posted a second time: accepted as duplicates, fulfilled once. */
const REPEATS = 20
const SENDERS = 16

let platform: TestPlatform
let witness: Witness
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  witness = await Witness.start()
  dir = writeProject({})
  for (const file of ['orders.ts', 'fulfil.ts']) copyFileSync(join(EXAMPLE, file), join(dir, file))
  // The example's manifest as it is, with the witness's address given to fulfil.
  const docs = parseAllDocuments(readFileSync(join(EXAMPLE, 'roost.yaml'), 'utf8')).map((doc) => doc.toJS() as { metadata: { name: string }, spec: Record<string, unknown> })
  for (const doc of docs) if (doc.metadata.name === 'fulfil') doc.spec.env = { FULFIL_LOG_URL: witness.url }
  writeFileSync(join(dir, 'roost.yaml'), docs.map((doc) => JSON.stringify(doc)).join('\n---\n'))
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml'), '--wait']), 'apply the store')
})

after(async () => {
  await platform?.stop()
  await witness?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

async function workers (): Promise<number> {
  return (await instancesOf(platform, 'fulfil')).filter((i) => i.state === 'ready').length
}

test('a burst of orders: fulfil grows to ⌈backlog / 10⌉ capped at 10, drains the queue, fulfils each accepted order, and shrinks back to 1', { timeout: 120_000 }, async (t) => {
  await waitFor(async () => await workers() === 1, 20_000, () => 'fulfil (min 1) has no ready worker')
  const ids = Array.from({ length: ORDERS }, (_, i) => `order-${i}`)
  const sends = [...ids, ...ids.slice(0, REPEATS)]
  const accepted = new Set<string>()
  let duplicatesAnswered = 0
  let peak = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await workers())
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })()
  const started = Date.now()
  let next = 0
  await Promise.all(Array.from({ length: SENDERS }, async () => {
    while (next < sends.length) {
      const id = sends[next++] as string
      const response = await platform.fetch('/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, items: ['book'] }) })
      const answer = await response.json() as { accepted?: string, duplicate?: boolean }
      assert.equal(response.status, 202, JSON.stringify(answer))
      accepted.add(answer.accepted as string)
      if (answer.duplicate === true) duplicatesAnswered++
    }
  }))
  const published = Date.now()
  assert.equal(accepted.size, ORDERS)
  assert.equal(duplicatesAnswered, REPEATS, 'an order posted twice is a duplicate of the first, by its key')

  await waitFor(async () => {
    const queue = await queueOf(platform, 'orders')
    return queue.backlog === 0 && new Set(witness.reports.map((r) => r.order)).size === ORDERS
  }, 90_000, () => `fulfilled ${new Set(witness.reports.map((r) => r.order)).size} of ${ORDERS}`)
  const drained = Date.now()
  const fulfilled = witness.countBy('order')
  assert.deepEqual([...fulfilled.keys()].sort(), [...accepted].sort(), 'every accepted order, and only those, is fulfilled')
  const duplicates = [...fulfilled.values()].reduce((sum, n) => sum + n - 1, 0)
  assert.equal((await queueOf(platform, 'orders')).dead, 0)

  const decisions = (await functionEvents(platform, 'fulfil')).filter((e) => e.reason === 'ScaledUp')
  assert.ok(decisions.some((e) => /→ 10 instances/.test(e.message)), `a decision took fulfil to 10 (its max): ${decisions.map((e) => e.message).join('\n')}`)
  assert.ok(decisions.every((e) => /queue \d/.test(e.message)), 'the decisions name the queue metric')

  let left = 0
  await waitFor(async () => (left = (await instancesOf(platform, 'fulfil')).length) === 1, 60_000, () => `fulfil has ${left} instances after the queue drained`)
  sampling = false
  await sampler
  assert.equal(peak, 10, 'the workers reached 10 at the peak')
  t.diagnostic(`${ORDERS} orders (+${REPEATS} repeats) published in ${published - started} ms, drained ${drained - published} ms later; peak workers ${peak}; ${duplicates} duplicate fulfilments`)
})
