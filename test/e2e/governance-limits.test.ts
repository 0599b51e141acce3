// Limits at the gateway on a real `roost up` (issue 11, "What the gateway must
// do"): the issue's OpenSergo example answering as it promises; rate limits per
// function, route, client IP, header and query value, each algorithm, refused
// with 429, Retry-After and the IETF RateLimit headers and never counted as a
// function error; throttling that paces and then refuses; a concurrency limit
// across every instance of a function.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ok } from '../helpers/e2e.js'
import { answer, burst, countOf, eventsOf, getFrom, metric, type EventItem } from '../helpers/governance.js'
import { TestPlatform, waitFor, writeProject } from '../helpers/platform.js'
import { expectProblem } from '../helpers/problems.js'
import { issueExample } from '../fixtures/issue-11-example.js'

// ?hold=FILE keeps the request in flight until the test creates FILE.
const ECHO_TS = `
import { existsSync } from 'node:fs'
export default async (req: Request): Promise<Response> => {
  const url = new URL(req.url)
  const hold = url.searchParams.get('hold')
  if (hold !== null) while (!existsSync(hold)) await new Promise((resolve) => setTimeout(resolve, 10))
  return new Response(process.pid + ' ' + url.pathname)
}
`

const FOO = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: foo, namespace: prod, labels: { app: foo-app } }
spec:
  source: ./echo.ts
  http: { path: /foo }
`

const LIMITS = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: limits }
spec:
  source: ./echo.ts
  governance:
    rules:
      - name: guard
        breaker: { trigger: error-count, threshold: 1, minRequests: 1 }
      - name: by-route
        routes: ["/route/*"]
        rateLimit: { limit: 2, window: 1m, key: route }
      - name: whole
        routes: ["/whole/*"]
        rateLimit: { limit: 3, window: 1m }
      - name: by-ip
        routes: ["/ip"]
        rateLimit: { limit: 2, window: 1m, key: ip }
      - name: by-header
        routes: ["/header"]
        rateLimit: { limit: 2, window: 1m, key: "header:x-tenant" }
      - name: by-query
        routes: ["/query"]
        rateLimit: { limit: 2, window: 1m, key: "query:user" }
      - name: bucket
        routes: ["/bucket"]
        rateLimit: { algorithm: token-bucket, limit: 1, window: 1m, burst: 2 }
      - name: fixed
        routes: ["/fixed"]
        rateLimit: { algorithm: fixed-window, limit: 2, window: 1h }
      - name: hot
        routes: ["/hot"]
        rateLimit: { limit: 2, window: 1m, key: "query:t", maxKeys: 2 }
`

// 300 ms apart, at most 700 ms in the queue: waits of 0, 300 and 600 ms are taken, 900 is not.
const PACED = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: paced, labels: { app: paced-app } }
spec:
  source: ./echo.ts
  http: { path: /paced }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: ThrottlingStrategy
metadata: { name: pace }
spec: { minIntervalOfRequests: 300ms, queueTimeout: 700ms }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: pace-paced }
spec:
  selector: { app: paced-app }
  targets: [{ targetResourceName: /paced }]
  strategies: [{ name: pace, kind: ThrottlingStrategy }]
`

// One request per instance, three instances, two requests in flight for the whole function.
const BOUNDED = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: bounded, labels: { app: bounded-app } }
spec:
  source: ./echo.ts
  concurrency: 1
  scale: { min: 3, max: 3 }
  http: { path: /bounded }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: ConcurrencyLimitStrategy
metadata: { name: two-at-once }
spec: { maxConcurrency: 2, limitMode: Global }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: bound-bounded }
spec:
  selector: { app: bounded-app }
  targets: [{ targetResourceName: /bounded }]
  strategies: [{ name: two-at-once }]
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'echo.ts': ECHO_TS, 'rules.yaml': issueExample, 'foo.yaml': FOO, 'limits.yaml': LIMITS, 'paced.yaml': PACED, 'bounded.yaml': BOUNDED })
  // Instances run as their namespace's own uid: the release files of ?hold= must be visible to it.
  chmodSync(dir, 0o755)
  ok(await platform.cli(['apply', '-f', 'rules.yaml', '-n', 'prod'], { cwd: dir }), 'apply the example')
  for (const file of ['foo.yaml', 'limits.yaml', 'paced.yaml', 'bounded.yaml']) ok(await platform.cli(['apply', '-f', file], { cwd: dir }), `apply ${file}`)
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Sequential GETs; their statuses. */
async function statuses (path: string, n: number, init?: RequestInit): Promise<number[]> {
  const seen: number[] = []
  for (let i = 0; i < n; i++) seen.push((await answer(platform, path, init)).status)
  return seen
}

test('the issue example as it stands: /foo beyond 10 per second gets 429 "Blocked by Sentinel" with X-Sentinel-Limit: foo', async () => {
  assert.equal((await answer(platform, '/foo')).status, 200, 'the function answers (and is warm)')
  // The sliding window resets nothing at a second's edge: wait out the warming request, then 25 at once.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const { startedAt, answers } = await burst(platform, '/foo', 25)
  const elapsed = Math.max(...answers.map((a) => a.doneAt)) - startedAt
  const admitted = countOf(answers, 200)
  // The first 10 always pass; no second admits more than 10, however long the burst took.
  assert.ok(admitted >= 10 && admitted <= 10 * (Math.floor(elapsed / 1000) + 1), `${admitted} admitted in ${elapsed} ms`)
  const refused = answers.filter((a) => a.status !== 200)
  assert.equal(refused.length, 25 - admitted)
  for (const r of refused) {
    assert.equal(r.status, 429)
    assert.equal(r.body, 'Blocked by Sentinel')
    assert.equal(r.headers.get('x-sentinel-limit'), 'foo')
    assert.match(r.headers.get('retry-after') ?? '', /^1$/, 'a 1-second window is back within a second')
    assert.equal(r.headers.get('ratelimit-policy'), '"rate-limit-foo";q=10;w=1')
    assert.equal(r.headers.get('ratelimit'), '"rate-limit-foo";r=0;t=1')
  }
  assert.equal(await metric(platform, 'roost_governance_rejected_total', { namespace: 'prod', function: 'foo', reason: 'rate-limited', rule: 'FaultToleranceRule/my-rule' }), refused.length)
  // One event for the burst, not one per refused request.
  const rejectedEvents = async (): Promise<EventItem[]> => (await eventsOf(platform, 'foo', 'prod')).filter((e) => e.reason === 'RequestsRejected')
  await waitFor(async () => (await rejectedEvents()).length > 0, 10_000, () => 'no RequestsRejected event')
  const events = await rejectedEvents()
  assert.equal(events.length, 1, JSON.stringify(events))
  assert.equal(events[0].type, 'Warning')
  assert.match(events[0].message, /^FaultToleranceRule\/my-rule: rate-limit-foo began refusing requests \(rate-limited\)/)
})

test('the example\'s route rule still applies when the function has rules of its own for every route', async () => {
  ok(await platform.cli(['apply', '-f', '-'], {
    cwd: dir,
    input: FOO.replace('  http: { path: /foo }\n', '  http: { path: /foo }\n  governance:\n    rules: [{ name: guard, breaker: { threshold: 0.5 } }]\n    fallbacks: { breakerOpen: { body: closed for now } }\n')
  }), 'apply foo with rules of its own')
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const { answers } = await burst(platform, '/foo', 25)
  assert.ok(countOf(answers, 429) > 0, `no request was refused: ${JSON.stringify(answers.map((a) => a.status))}`)
  assert.ok(answers.every((a) => a.status === 200 || a.body === 'Blocked by Sentinel'))
})

test('a route-keyed limit counts each path apart; a function-keyed one counts its routes together', async () => {
  assert.deepEqual(await statuses('/fn/limits/route/a', 3), [200, 200, 429])
  assert.deepEqual(await statuses('/fn/limits/route/b', 3), [200, 200, 429], '/route/b has a quota of its own')
  assert.deepEqual(await statuses('/fn/limits/whole/a', 2), [200, 200])
  assert.deepEqual(await statuses('/fn/limits/whole/b', 2), [200, 429], '/whole/a and /whole/b share one quota of 3')
  assert.equal(await metric(platform, 'roost_governance_limiter_keys', { function: 'limits', rule: 'spec.governance.rules[1]' }), 2)
})

test('a refused request gets 429 problem+json with Retry-After and the RateLimit headers of the strategy', async () => {
  const response = await platform.fetch('/fn/limits/route/a')
  const problem = await expectProblem(response, 429, 'ROOST_E_RATE_LIMITED')
  assert.match(problem.detail, /spec\.governance\.rules\[1\], by-route/)
  const retryAfter = Number(response.headers.get('retry-after'))
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${String(response.headers.get('retry-after'))}`)
  assert.equal(response.headers.get('ratelimit-policy'), '"by-route";q=2;w=60')
  const limit = /^"by-route";r=0;t=(\d+)$/.exec(response.headers.get('ratelimit') ?? '')
  assert.ok(limit !== null, `RateLimit: ${String(response.headers.get('ratelimit'))}`)
  assert.equal(Number(limit[1]), retryAfter, 'Retry-After and t agree')
  assert.equal(response.headers.get('x-roost-attempts'), null, 'it never reached an instance')
})

test('a limit keyed by client IP counts each address apart', async () => {
  const url = `${platform.config.gateway}/fn/limits/ip`
  const from = async (address: string): Promise<number> => (await getFrom(address, url)).status
  assert.deepEqual([await from('127.0.0.1'), await from('127.0.0.1'), await from('127.0.0.1')], [200, 200, 429])
  assert.deepEqual([await from('127.0.0.2'), await from('127.0.0.2'), await from('127.0.0.2')], [200, 200, 429])
  assert.equal(await metric(platform, 'roost_governance_limiter_keys', { function: 'limits', rule: 'spec.governance.rules[3]' }), 2)
})

test('limits keyed by a header or a query parameter count each value apart', async () => {
  const tenant = (name: string): RequestInit => ({ headers: { 'x-tenant': name } })
  assert.deepEqual(await statuses('/fn/limits/header', 3, tenant('acme')), [200, 200, 429])
  assert.deepEqual(await statuses('/fn/limits/header', 3, tenant('globex')), [200, 200, 429])
  assert.deepEqual(await statuses('/fn/limits/query?user=ann', 3), [200, 200, 429])
  assert.deepEqual(await statuses('/fn/limits/query?user=bob&x=1', 3), [200, 200, 429])
  assert.equal(await metric(platform, 'roost_governance_limiter_keys', { function: 'limits', rule: 'spec.governance.rules[4]' }), 2)
  assert.equal(await metric(platform, 'roost_governance_limiter_keys', { function: 'limits', rule: 'spec.governance.rules[5]' }), 2)
})

test('hot parameters: past maxKeys the least recent key is forgotten, and neither a new key nor the forgotten one comes back to a full quota', async () => {
  assert.deepEqual(await statuses('/fn/limits/hot?t=a', 2), [200, 200])
  assert.deepEqual(await statuses('/fn/limits/hot?t=b', 1), [200])
  assert.deepEqual(await statuses('/fn/limits/hot?t=c', 1), [429], 'c takes a\'s place and starts as used as a left')
  assert.deepEqual(await statuses('/fn/limits/hot?t=a', 1), [429], 'a comes back no fuller than it left')
  assert.equal(await metric(platform, 'roost_governance_limiter_keys', { function: 'limits', rule: 'spec.governance.rules[8]' }), 2)
})

test('a token bucket lets its burst through at once, a fixed window its limit, then both refuse', async () => {
  assert.deepEqual(await statuses('/fn/limits/bucket', 4), [200, 200, 200, 429], 'rate 1 plus burst 2')
  assert.deepEqual(await statuses('/fn/limits/fixed', 3), [200, 200, 429])
})

test('refusals are not function errors: no 4xx or 5xx counted for the function, and its breaker stays closed', async () => {
  const rejected = await metric(platform, 'roost_governance_rejected_total', { function: 'limits', reason: 'rate-limited', rule: 'spec.governance.rules[1]' })
  assert.equal(rejected, 3, '/route/a twice, /route/b once')
  assert.equal(await metric(platform, 'roost_requests_total', { function: 'limits', code: '5xx' }), 0)
  assert.equal(await metric(platform, 'roost_requests_total', { function: 'limits', code: '4xx' }), 0)
  assert.equal(await metric(platform, 'roost_circuit_breaker_state', { function: 'limits', breaker: 'guard', state: 'closed' }), 1, 'an error-count breaker of 1 saw no error')
})

test('throttling paces requests that come at once and refuses those whose wait would pass the queue timeout', async () => {
  assert.equal((await answer(platform, '/paced')).status, 200, 'the function is warm')
  await new Promise((resolve) => setTimeout(resolve, 400))
  const { startedAt, answers } = await burst(platform, '/paced', 10)
  const passed = answers.filter((a) => a.status === 200)
  assert.ok(passed.length >= 3, `the first three fit in the queue, ${passed.length} passed`)
  assert.ok(countOf(answers, 429) >= 1, '10 requests at once cannot all fit 700 ms of queue at 300 ms apart')
  assert.equal(passed.length + countOf(answers, 429), 10)
  // The k-th request admitted leaves k intervals after the first: the last answer cannot come sooner.
  const lastDone = Math.max(...passed.map((a) => a.doneAt))
  assert.ok(lastDone - startedAt >= 300 * (passed.length - 1) - 5, `${passed.length} paced requests done within ${lastDone - startedAt} ms`)
  const refused = answers.find((a) => a.status === 429) as (typeof answers)[number]
  assert.ok(Number(refused.headers.get('retry-after')) >= 1)
  assert.match(JSON.parse(refused.body).code, /^ROOST_E_RATE_LIMITED$/)
})

test('a concurrency limit holds across instances: the third request in flight is refused while an instance is free', async () => {
  await waitFor(async () => (await platform.instances()).filter((i) => i.function === 'bounded' && i.state === 'ready').length === 3, 30_000, () => 'three instances of bounded')
  const release = join(dir, 'release-bounded')
  const held = [1, 2].map(async () => await answer(platform, `/bounded?hold=${encodeURIComponent(release)}`))
  await waitFor(async () => await metric(platform, 'roost_requests_in_flight', { function: 'bounded' }) === 2, 10_000, () => 'two requests in flight')
  const third = await platform.fetch('/bounded')
  await expectProblem(third, 429, 'ROOST_E_CONCURRENCY_LIMITED')
  assert.ok(Number(third.headers.get('retry-after')) >= 1)
  writeFileSync(release, '')
  const answered = await Promise.all(held)
  assert.deepEqual(answered.map((a) => a.status), [200, 200])
  const pids = new Set(answered.map((a) => a.body.split(' ')[0]))
  assert.equal(pids.size, 2, 'each held request had an instance of its own (concurrency 1 per instance)')
  assert.equal((await answer(platform, '/bounded')).status, 200, 'the slots came back')
  assert.equal(await metric(platform, 'roost_governance_rejected_total', { function: 'bounded', reason: 'concurrency-limited', rule: 'FaultToleranceRule/bound-bounded' }), 1)
})
