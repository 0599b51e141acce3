// Fallbacks per cause on a real `roost up` (issue 11, "Fallbacks"): a
// provided response or another function, chosen by why the gateway answers
// itself (rate limited, breaker open, overloaded, timed out), so that a caller
// can tell the causes apart; a cause without a fallback gets the gateway's own
// problem answer. OpenSergo's HttpRequestFallbackAction answers a breaker too.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ok } from '../helpers/e2e.js'
import { answer, metric } from '../helpers/governance.js'
import { TestPlatform, waitFor, writeProject } from '../helpers/platform.js'
import { expectProblem } from '../helpers/problems.js'

const MENU_TS = `
import { existsSync } from 'node:fs'
export default async (req: Request): Promise<Response> => {
  const url = new URL(req.url)
  const hold = url.searchParams.get('hold')
  if (hold !== null) while (!existsSync(hold)) await new Promise((resolve) => setTimeout(resolve, 10))
  if (url.pathname === '/tripped') return new Response('failed', { status: 500 })
  if (url.pathname === '/sleep') await new Promise((resolve) => setTimeout(resolve, 5000))
  return new Response('menu')
}
`

const FALLBACKS = `
    fallbacks:
      rateLimited: { body: slow down, headers: { x-cause: rate-limited } }
      breakerOpen: { function: backup }
      overloaded: { body: busy, headers: { x-cause: overloaded } }
      timedOut: { status: 200, body: too slow, headers: { x-cause: timed-out } }
`

// One request at a time on one instance; the platform lets one more wait (--queue-limit 1).
const MENU = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: menu }
spec:
  source: ./menu.ts
  concurrency: 1
  scale: { min: 1, max: 1 }
  governance:
    rules:
      - { name: limited, routes: ["/limited"], rateLimit: { limit: 1, window: 1m } }
      - { name: tripped, routes: ["/tripped"], breaker: { trigger: error-count, threshold: 1, minRequests: 1, recovery: 1m } }
${FALLBACKS}---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: sleepy }
spec:
  source: ./menu.ts
  timeout: 1s
  governance:
${FALLBACKS}---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: plain }
spec:
  source: ./menu.ts
  governance:
    rules:
      - { name: limited, routes: ["/limited"], rateLimit: { limit: 1, window: 1m } }
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: backup }
spec:
  source:
    inline: "export default (req: Request) => new Response('backup for ' + new URL(req.url).pathname)"
`

// An OpenSergo breaker whose rule's fallback action answers when it is open.
const SERGO = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: sergo, labels: { app: sergo-app } }
spec:
  source: ./menu.ts
  http: { path: /sergo }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: CircuitBreakerStrategy
metadata: { name: sergo-breaker }
spec: { strategy: ErrorRequestRatio, triggerRatio: "100%", statDuration: 30s, recoveryTimeout: 1min, minRequestAmount: 2 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: sergo-down }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc:
    responseStatusCode: 503
    responseContentBody: "sergo is resting"
    responseAdditionalHeaders: [{ key: X-Fallback, value: sergo-down }]
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: sergo-rule, labels: { app: sergo-app } }
spec:
  targets: [{ targetResourceName: "/sergo/tripped" }]
  strategies: [{ name: sergo-breaker, kind: CircuitBreakerStrategy }]
  fallbackAction: { name: sergo-down, kind: HttpRequestFallbackAction }
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start({ args: ['--queue-limit', '1'] })
  dir = writeProject({ 'menu.ts': MENU_TS, 'menu.yaml': MENU, 'sergo.yaml': SERGO })
  // Instances run as their namespace's own uid: the release files of ?hold= must be visible to it.
  chmodSync(dir, 0o755)
  ok(await platform.cli(['apply', '-f', 'menu.yaml'], { cwd: dir }), 'apply menu.yaml')
  ok(await platform.cli(['apply', '-f', 'sergo.yaml'], { cwd: dir }), 'apply sergo.yaml')
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('rate limited: the provided response, with Retry-After and the RateLimit headers', async () => {
  assert.equal((await answer(platform, '/fn/menu/limited')).body, 'menu')
  const limited = await answer(platform, '/fn/menu/limited')
  assert.deepEqual([limited.status, limited.body, limited.headers.get('x-cause')], [429, 'slow down', 'rate-limited'], 'the default status of a rate-limited fallback is 429')
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  assert.equal(limited.headers.get('ratelimit-policy'), '"limited";q=1;w=60')
  assert.match(limited.headers.get('ratelimit') ?? '', /^"limited";r=0;t=\d+$/)
})

test('without a fallback for the cause the gateway answers its own problem', async () => {
  assert.equal((await answer(platform, '/fn/plain/limited')).body, 'menu')
  await expectProblem(await platform.fetch('/fn/plain/limited'), 429, 'ROOST_E_RATE_LIMITED')
})

test('breaker open: another function answers instead', async () => {
  assert.equal((await answer(platform, '/fn/menu/tripped')).status, 500)
  const fallback = await answer(platform, '/fn/menu/tripped')
  assert.deepEqual([fallback.status, fallback.body], [200, 'backup for /tripped'])
  assert.equal(await metric(platform, 'roost_governance_rejected_total', { function: 'menu', reason: 'breaker-open', rule: 'spec.governance.rules[1]' }), 1)
})

test('overloaded: once the version\'s queue is full, the provided response', async () => {
  const release = join(dir, 'release-menu')
  const held = answer(platform, `/fn/menu/held?hold=${encodeURIComponent(release)}`)
  await waitFor(async () => await metric(platform, 'roost_requests_in_flight', { function: 'menu' }) === 1, 10_000, () => 'the held request is in flight')
  const queued = answer(platform, '/fn/menu/queued')
  await waitFor(async () => await metric(platform, 'roost_activator_queue_length', { function: 'menu' }) === 1, 10_000, () => 'one request waits')
  const overloaded = await answer(platform, '/fn/menu/third')
  assert.deepEqual([overloaded.status, overloaded.body, overloaded.headers.get('x-cause')], [503, 'busy', 'overloaded'])
  assert.equal(overloaded.headers.get('retry-after'), '1')
  writeFileSync(release, '')
  assert.deepEqual([(await held).body, (await queued).body], ['menu', 'menu'])
})

test('timed out: the provided response once the function\'s timeout has passed', async () => {
  const started = Date.now()
  const slow = await answer(platform, '/fn/sleepy/sleep')
  assert.deepEqual([slow.status, slow.body, slow.headers.get('x-cause')], [200, 'too slow', 'timed-out'])
  assert.ok(slow.doneAt - started < 5000, 'answered at the timeout, not when the handler would have')
})

test('an OpenSergo breaker answers with its rule\'s HttpRequestFallbackAction when open, on its target only', async () => {
  for (let i = 0; i < 2; i++) assert.equal((await answer(platform, '/sergo/tripped')).status, 500)
  const fallback = await answer(platform, '/sergo/tripped')
  assert.deepEqual([fallback.status, fallback.body, fallback.headers.get('x-fallback')], [503, 'sergo is resting', 'sergo-down'])
  assert.ok(Number(fallback.headers.get('retry-after')) >= 1, 'Retry-After says when the breaker may let requests in again')
  assert.equal((await answer(platform, '/sergo')).body, 'menu', 'other routes of the function are not behind the breaker')
})
