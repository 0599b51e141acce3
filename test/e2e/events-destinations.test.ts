// spec.async destinations on a real `roost up` (issue 12, "Async
// invocations"): an async call's result goes to a queue on success (a
// consumer of that queue receives it as a message) and to another function's
// async call on failure, as the JSON an X-Callback-Url receives.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { ok } from '../helpers/e2e.js'
import { Witness } from '../helpers/events.js'

const WORK = `
export default async (req: Request) => {
  const url = new URL(req.url)
  if (url.pathname === '/fail') return new Response('broken', { status: 500 })
  return Response.json({ done: url.pathname })
}
`
// Tells the witness every result message it consumes.
const SINK = `
export default {
  async queue (batch) {
    for (const message of batch) {
      await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ via: 'queue', type: message.cloudEvent.type, hops: message.attributes.hops, result: message.body }) })
      message.ack()
    }
  }
}
`
// Tells the witness every result it is called with.
const AUDIT = `
export default async (req: Request) => {
  const result = await req.json()
  await fetch(process.env.WITNESS, { method: 'POST', body: JSON.stringify({ via: 'function', type: req.headers.get('ce-type'), event: req.headers.get('x-roost-event'), result }) })
  return new Response('noted')
}
`

interface Report {
  via: string
  type: string | null
  hops?: string
  event?: string | null
  result: { callId: string, status: string, statusCode: number, attempts: number, body: string, headers: Record<string, string> }
}

let platform: TestPlatform
let witness: Witness
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  witness = await Witness.start()
  dir = writeProject({
    'work.ts': WORK,
    'sink.ts': SINK,
    'audit.ts': AUDIT,
    'work.yaml': manifest('work', 'source: ./work.ts\nasync:\n  onSuccess: { queue: results }\n  onFailure: { function: audit }'),
    'sink.yaml': manifest('sink', `source: ./sink.ts\nenv: { WITNESS: "${witness.url}" }\ntriggers:\n  - queue: { name: results, maxBatchWait: 100ms }`),
    'audit.yaml': manifest('audit', `source: ./audit.ts\nenv: { WITNESS: "${witness.url}" }`)
  })
  for (const file of ['sink.yaml', 'audit.yaml', 'work.yaml']) ok(await platform.cli(['apply', '-f', join(dir, file)]), `apply ${file}`)
})

after(async () => {
  await platform?.stop()
  await witness?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

function reportsOf (callId: string): Report[] {
  return (witness.reports as unknown as Report[]).filter((r) => r.result?.callId === callId)
}

test('onSuccess: { queue }: a succeeded async call\'s result reaches the queue\'s consumer as a message', { timeout: 90_000 }, async () => {
  const response = await platform.fetch('/async/fn/work/ok', { method: 'POST', body: 'go' })
  assert.equal(response.status, 202)
  const id = response.headers.get('x-call-id') as string
  await waitFor(() => reportsOf(id).length > 0, 60_000, () => 'the result message at the sink')
  const [report] = reportsOf(id)
  assert.deepEqual([report?.via, report?.type, report?.hops], ['queue', 'dev.roost.async.succeeded', '1'])
  assert.deepEqual([report?.result.status, report?.result.statusCode, report?.result.attempts], ['succeeded', 200, 1])
  assert.deepEqual(JSON.parse(report?.result.body ?? ''), { done: '/ok' })
})

test('onFailure: { function }: a failed async call\'s result is that function\'s async call, after the call\'s three attempts', { timeout: 90_000 }, async () => {
  const response = await platform.fetch('/async/fn/work/fail', { method: 'POST', body: '' })
  assert.equal(response.status, 202)
  const id = response.headers.get('x-call-id') as string
  await waitFor(() => reportsOf(id).length > 0, 60_000, () => 'the result at the audit function')
  const [report] = reportsOf(id)
  assert.deepEqual([report?.via, report?.type, report?.event], ['function', 'dev.roost.async.failed', 'invocation'])
  assert.deepEqual([report?.result.status, report?.result.statusCode, report?.result.attempts], ['failed', 500, 3])
  // The delivery to audit is an invocation record of its own, in audit's list.
  assert.match(ok(await platform.cli(['invocations', 'list', 'audit']), 'invocations list audit'), /\saudit\s+succeeded\s/)
})
