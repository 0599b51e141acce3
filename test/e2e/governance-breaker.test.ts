// A circuit breaker on a real `roost up` (issue 11, "Circuit breakers"): 4xx
// answers do not trip it, 5xx answers of the handler do; open, requests get
// the fallback (another function) at once and reach no instance; after the
// recovery time a fixed number of probes, at most that many at once; a failed
// probe opens it for longer; successful probes close it and traffic ramps
// back; every change is an event (`roost describe function`, `roost get
// events`) and a metric.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ok } from '../helpers/e2e.js'
import { answer, eventsOf, metric, type EventItem } from '../helpers/governance.js'
import { TestPlatform, waitFor, writeProject } from '../helpers/platform.js'

let platform: TestPlatform
let dir: string
let broken: string

// 500 while the test's BROKEN file exists; ?hold=FILE stays in flight until FILE exists.
const SHAKY_TS = (brokenFile: string): string => `
import { existsSync } from 'node:fs'
export default async (req: Request): Promise<Response> => {
  const url = new URL(req.url)
  const hold = url.searchParams.get('hold')
  if (hold !== null) while (!existsSync(hold)) await new Promise((resolve) => setTimeout(resolve, 10))
  if (url.pathname === '/missing') return new Response('no such thing', { status: 404 })
  if (existsSync(${JSON.stringify(brokenFile)})) return new Response('broken', { status: 500 })
  return new Response('shaky')
}
`

// Open 2 s after the first trip (less up to 20% jitter), doubling per trip in a row; two probes;
// after closing, half the traffic for 30 s.
const SHAKY = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: shaky }
spec:
  source: ./shaky.ts
  scale: { min: 1, max: 1 }
  governance:
    rules:
      - name: trip
        breaker: { threshold: 50%, minRequests: 4, window: 30s, recovery: 2s, maxRecovery: 10s, probes: 2, ramp: { percent: 50, interval: 30s } }
        fallbacks:
          breakerOpen: { function: backup }
---
apiVersion: roost.dev/v1
kind: Function
metadata: { name: backup }
spec:
  source:
    inline: "export default (req: Request) => new Response('backup for ' + new URL(req.url).pathname)"
`

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'shaky.yaml': SHAKY })
  broken = join(dir, 'broken')
  writeFileSync(join(dir, 'shaky.ts'), SHAKY_TS(broken))
  // Instances run as their namespace's own uid: the test's files must be visible to it.
  chmodSync(dir, 0o755)
  ok(await platform.cli(['apply', '-f', 'shaky.yaml'], { cwd: dir }), 'apply')
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const BREAKER = { function: 'shaky', rule: 'spec.governance.rules[0]', breaker: 'trip' }

async function breakerState (): Promise<string> {
  for (const state of ['closed', 'open', 'half-open']) if (await metric(platform, 'roost_circuit_breaker_state', { ...BREAKER, state }) === 1) return state
  return 'none'
}

async function arrivals (): Promise<number> {
  return await metric(platform, 'roost_request_arrivals_total', { function: 'shaky' })
}

async function breakerEvents (): Promise<EventItem[]> {
  return (await eventsOf(platform, 'shaky')).filter((e) => e.reason.startsWith('CircuitBreaker'))
}

test('4xx answers are not failures: the breaker stays closed', async () => {
  assert.equal((await answer(platform, '/fn/shaky')).body, 'shaky')
  for (let i = 0; i < 4; i++) assert.equal((await answer(platform, '/fn/shaky/missing')).status, 404)
  assert.equal(await breakerState(), 'closed')
})

test('5xx answers of the handler trip it at the ratio; open, requests get the fallback function at once and reach no instance', async () => {
  writeFileSync(broken, '')
  // Five successes (one 200, four 404s) are in the window: the fifth 500 makes the error ratio 50%.
  const failures: number[] = []
  for (let i = 0; i < 5; i++) failures.push((await answer(platform, '/fn/shaky/pay')).status)
  assert.deepEqual(failures, [500, 500, 500, 500, 500])
  assert.equal(await breakerState(), 'open')
  const before = await arrivals()
  for (let i = 0; i < 3; i++) {
    const fallback = await answer(platform, '/fn/shaky/pay')
    assert.equal(fallback.status, 200)
    assert.equal(fallback.body, 'backup for /pay', 'the fallback function gets the request as the function would')
  }
  assert.equal(await arrivals(), before, 'no request reached shaky while its breaker was open')
  // The gateway's own look at its breakers may move it to half-open meanwhile: only the opening is asserted here.
  const opened = (await breakerEvents()).filter((e) => e.reason === 'CircuitBreakerOpened')
  assert.equal(opened.length, 1, JSON.stringify(opened))
  assert.deepEqual([opened[0].type, opened[0].reason], ['Warning', 'CircuitBreakerOpened'])
  assert.equal(opened[0].message, 'spec.governance.rules[0]: breaker trip closed → open: error ratio 0.5 >= 0.5 over 10 calls in 30s')
  assert.equal(await metric(platform, 'roost_governance_rejected_total', { function: 'shaky', reason: 'breaker-open', rule: 'spec.governance.rules[0]' }), 3)
})

test('after the recovery time it goes half-open; a failed probe opens it again, for longer', async () => {
  await waitFor(async () => await breakerState() === 'half-open', 10_000, () => 'the breaker never went half-open')
  const probe = await answer(platform, '/fn/shaky/pay')
  assert.equal(probe.status, 500, 'the probe reached the still broken function')
  assert.equal(await breakerState(), 'open')
  await waitFor(async () => await breakerState() === 'half-open', 10_000, () => 'the breaker never went half-open again')
  const events = await breakerEvents()
  assert.deepEqual(events.map((e) => e.reason), ['CircuitBreakerOpened', 'CircuitBreakerHalfOpen', 'CircuitBreakerOpened', 'CircuitBreakerHalfOpen'])
  assert.match(events[2].message, /: breaker trip half-open → open: probe failed after 0 of 2 succeeded$/)
  // The open time doubles per trip in a row, less up to 20% jitter: 1.6–2 s, then 3.2–4 s.
  const openFor = events.filter((e) => e.reason === 'CircuitBreakerHalfOpen').map((e) => {
    const match = /open for ([\d.]+)(ms|s); admitting 2 probes$/.exec(e.message)
    assert.ok(match !== null, e.message)
    return Number(match[1]) * (match[2] === 's' ? 1000 : 1)
  })
  assert.ok(openFor[0] >= 1600 && openFor[0] <= 2000, `first open for ${openFor[0]} ms`)
  assert.ok(openFor[1] >= 3200 && openFor[1] <= 4000, `second open for ${openFor[1]} ms`)
})

test('half-open admits its two probes and no more at once; their success closes it, and traffic ramps back from half', async () => {
  rmSync(broken)
  const release = join(dir, 'release-probes')
  const before = await arrivals()
  const probes = [1, 2].map(async () => await answer(platform, `/fn/shaky/probe?hold=${encodeURIComponent(release)}`))
  await waitFor(async () => await arrivals() === before + 2, 10_000, () => 'two probes reached shaky')
  const third = await answer(platform, '/fn/shaky/probe')
  assert.equal(third.body, 'backup for /probe', 'a third request while two probes are in flight gets the fallback')
  writeFileSync(release, '')
  assert.deepEqual((await Promise.all(probes)).map((p) => p.body), ['shaky', 'shaky'])
  assert.equal(await breakerState(), 'closed')
  // Ramping at 50%: one request in two passes, exactly, the first included.
  const bodies: string[] = []
  for (let i = 0; i < 6; i++) bodies.push((await answer(platform, '/fn/shaky/after')).body)
  assert.deepEqual(bodies, ['shaky', 'backup for /after', 'shaky', 'backup for /after', 'shaky', 'backup for /after'])

  const events = await breakerEvents()
  const closed = events[events.length - 1]
  assert.deepEqual([closed.type, closed.reason], ['Normal', 'CircuitBreakerClosed'])
  assert.equal(closed.message, 'spec.governance.rules[0]: breaker trip half-open → closed: 2 of 2 probes succeeded; ramping up from 50% by 50% every 30s')
})

test('roost describe function shows the breaker\'s rule and its state changes among the events', async () => {
  const described = ok(await platform.cli(['describe', 'function', 'shaky']), 'describe')
  assert.match(described, /^ {2}spec\.governance\.rules\[0\] +every route +breaker at 50% errors over 30s \(min 4\), open 2s up to 10s, 2 probes \(trip\) +breaker-open: call backup$/m)
  const events = described.slice(described.indexOf('Events:'))
  for (const reason of ['CircuitBreakerOpened', 'CircuitBreakerHalfOpen', 'CircuitBreakerClosed']) assert.match(events, new RegExp(`\\s${reason}\\s+spec\\.governance\\.rules\\[0\\]: breaker trip `))
  // The live state, as of the gateway's last report (each second): the breaker's state and why, and the window's counts.
  assert.match(described, /^ {2}Live:$/m)
  assert.match(described, /^ {4}spec\.governance\.rules\[0\] +breaker trip +(closed|open|half-open): \S.* +\d+ calls, \d+ errors, \d+ slow in 30s$/m)
  assert.match(described, /^ {2}Retry budget: \d+ retries left now/m)
})
