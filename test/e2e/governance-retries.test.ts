// Retries on a real `roost up` (issue 11, "Retries that cannot storm"): a
// request whose instance crashed, or whose handler answered 502/503, is sent
// again when that is safe (an idempotent method, or an Idempotency-Key) and
// never otherwise; every attempt shares the request's one deadline; the
// answer says in x-roost-attempts how many it took; a retry budget keeps
// retries a small share of the requests when a function is down.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ok } from '../helpers/e2e.js'
import { answer, metric } from '../helpers/governance.js'
import { TestPlatform, waitFor, writeProject } from '../helpers/platform.js'
import { expectProblem } from '../helpers/problems.js'

// /crash exits while the test's crash-<pid> file names this instance; /busy-once?k=K answers 503
// (/bad-gateway-once 502) the first time an instance sees K; /fail is a 500; /down is always 503.
const FLAKY_TS = (dir: string): string => `
import { existsSync } from 'node:fs'
const seen = new Map<string, number>()
export default async (req: Request, ctx: any): Promise<Response> => {
  const url = new URL(req.url)
  const key = req.method + ' ' + (url.searchParams.get('k') ?? '')
  if (url.pathname === '/crash' && existsSync(${JSON.stringify(dir)} + '/crash-' + process.pid)) process.exit(1)
  const once = url.pathname === '/busy-once' ? 503 : url.pathname === '/bad-gateway-once' ? 502 : 0
  if (once !== 0 && !seen.has(key)) {
    seen.set(key, ctx.deadline)
    return new Response('not now', { status: once })
  }
  if (url.pathname === '/fail') return new Response('failed', { status: 500 })
  if (url.pathname === '/down') return new Response('down', { status: 503 })
  return Response.json({ pid: process.pid, method: req.method, body: await req.text(), deadline: ctx.deadline, firstDeadline: seen.get(key) ?? null })
}
`

const FUNCTIONS = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: flaky }
spec:
  source: ./flaky.ts
  scale: { min: 1, max: 1 }
  governance:
    # A budget that never refuses here: which requests are retried is the question; \`down\` has the budget.
    retries: { attempts: 3, backoff: { base: 10ms, cap: 100ms }, budget: { ratio: 100%, minPerSecond: 100 } }
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: down }
spec:
  source: ./flaky.ts
  scale: { min: 1, max: 1 }
  governance:
    retries: { attempts: 3, backoff: { base: 1ms, cap: 5ms }, budget: { ratio: 10%, minPerSecond: 1 } }
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'functions.yaml': FUNCTIONS })
  writeFileSync(join(dir, 'flaky.ts'), FLAKY_TS(dir))
  // Instances run as their namespace's own uid: the crash files must be visible to it.
  chmodSync(dir, 0o755)
  ok(await platform.cli(['apply', '-f', 'functions.yaml'], { cwd: dir }), 'apply')
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Seen { pid: number, method: string, body: string, deadline: number, firstDeadline: number | null }

const crashed = new Set<number>()

/** The pid of flaky's one ready instance, once there is one that was not told to crash before; it will be now. */
async function armCrash (): Promise<number> {
  let pid = 0
  await waitFor(async () => {
    const ready = (await platform.instances()).filter((i) => i.function === 'flaky' && i.state === 'ready' && !crashed.has(i.pid))
    pid = ready.length === 1 ? ready[0].pid : 0
    return pid !== 0
  }, 30_000, () => 'flaky has no new ready instance')
  crashed.add(pid)
  writeFileSync(join(dir, `crash-${pid}`), '')
  return pid
}

async function attempts (path: string, init?: RequestInit): Promise<{ status: number, attempts: string | null, seen: Seen | null, body: string }> {
  const got = await answer(platform, path, init)
  return { status: got.status, attempts: got.headers.get('x-roost-attempts'), seen: got.status === 200 ? JSON.parse(got.body) as Seen : null, body: got.body }
}

test('every proxied answer says how many attempts it took: one for a request that went through', async () => {
  const plain = await attempts('/fn/flaky/hello')
  assert.deepEqual([plain.status, plain.attempts], [200, '1'])
  const failed = await attempts('/fn/flaky/fail')
  assert.deepEqual([failed.status, failed.attempts], [500, '1'], 'a 500 is the handler\'s answer, not retried')
})

test('a 503 or 502 of the handler is retried for GET, PUT and a POST with Idempotency-Key, in the request\'s one deadline', async () => {
  const get = await attempts('/fn/flaky/busy-once?k=get')
  assert.deepEqual([get.status, get.attempts], [200, '2'])
  assert.equal(get.seen?.deadline, get.seen?.firstDeadline, 'the retry ran with the deadline of the first attempt')
  const put = await attempts('/fn/flaky/bad-gateway-once?k=put', { method: 'PUT', body: 'put body' })
  assert.deepEqual([put.status, put.attempts, put.seen?.body], [200, '2', 'put body'])
  const keyed = await attempts('/fn/flaky/busy-once?k=post', { method: 'POST', body: 'order 17', headers: { 'idempotency-key': 'order-17' } })
  assert.deepEqual([keyed.status, keyed.attempts, keyed.seen?.body], [200, '2', 'order 17'], 'the body is sent again whole')
})

test('a plain POST or PATCH is not retried: the caller gets the handler\'s 503 after one attempt', async () => {
  for (const method of ['POST', 'PATCH']) {
    const once = await attempts('/fn/flaky/busy-once?k=plain', { method, body: 'x' })
    assert.deepEqual([once.status, once.attempts, once.body], [503, '1', 'not now'], method)
  }
})

test('a request whose instance crashes is retried on another instance for GET and for POST with Idempotency-Key', async () => {
  const crashGet = await armCrash()
  const get = await attempts('/fn/flaky/crash')
  assert.deepEqual([get.status, get.attempts], [200, '2'], get.body)
  assert.notEqual(get.seen?.pid, crashGet, 'answered by the instance that replaced the crashed one')

  const crashPost = await armCrash()
  const post = await attempts('/fn/flaky/crash', { method: 'POST', body: 'charge 5', headers: { 'idempotency-key': 'charge-5' } })
  assert.deepEqual([post.status, post.attempts, post.seen?.body], [200, '2', 'charge 5'], post.body)
  assert.notEqual(post.seen?.pid, crashPost)
  assert.ok(await metric(platform, 'roost_retries_total', {}) >= 5, 'the retries are counted')
})

test('a plain POST whose instance crashes is not retried: 502, the instance crashed', async () => {
  await armCrash()
  await expectProblem(await platform.fetch('/fn/flaky/crash', { method: 'POST', body: 'charge 6' }), 502, 'ROOST_E_INSTANCE_CRASHED')
})

test('the retry budget keeps retries to a small share when the function is down: no storm', async () => {
  const started = Date.now()
  const answers = []
  for (let i = 0; i < 30; i++) answers.push(await attempts('/fn/down/down'))
  const seconds = Math.ceil((Date.now() - started) / 1000)
  assert.ok(answers.every((a) => a.status === 503 && a.body === 'down'), 'the handler\'s own 503 reaches the caller')
  const retries = answers.reduce((sum, a) => sum + Number(a.attempts) - 1, 0)
  // 10% of 30 requests, plus one a second: without the budget it would be 60.
  assert.ok(retries >= 1 && retries <= 3 + seconds + 1, `${retries} retries of 30 requests in ${seconds} s`)
  assert.ok(answers.filter((a) => a.attempts === '1').length >= 30 - (3 + seconds + 1), 'most requests were tried once')
  assert.ok(await metric(platform, 'roost_retry_budget_remaining', { function: 'down' }) >= 0)
})
