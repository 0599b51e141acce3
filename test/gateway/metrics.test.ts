import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Gateway } from '../../src/gateway/index.js'
import type { GatewayMetricsReport, RoutingTable, VersionMetrics } from '../../src/gateway/index.js'
import type { GatewayReport } from '../../src/gateway/routing-table.js'
import { find, parseExposition, value } from '../metrics/parse-exposition.js'
import { FakeInstance, type FakeResponse } from './fake-instance.js'

// What the gateway measures for the autoscaler and for Prometheus: the
// time-averaged load per version and instance, status classes, latencies,
// cold starts, and GET /metrics on the gateway port.

interface Upstream {
  fake: FakeInstance
  /** Responses held back until release() */
  held: FakeResponse[]
  release: () => void
}

/** A stand-in instance: `?hold` waits for release(), `?s=<code>` answers that status, `?hang` never answers. */
async function upstream (): Promise<Upstream> {
  const u: Upstream = {
    fake: undefined as unknown as FakeInstance,
    held: [],
    release: () => { for (const res of u.held.splice(0)) res.end('released') }
  }
  u.fake = await FakeInstance.start((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (url.searchParams.has('hang')) return
    if (url.searchParams.has('hold')) {
      u.held.push(res)
      return
    }
    const delay = Number(url.searchParams.get('delay') ?? 0)
    setTimeout(() => { res.writeHead(Number(url.searchParams.get('s') ?? 200)); res.end('ok') }, delay)
  })
  upstreams.push(u)
  return u
}

const CONTROL_PLANE_TEXT = '# HELP roost_test_marker A control-plane series.\n# TYPE roost_test_marker gauge\nroost_test_marker 1\n'
const reports: GatewayReport[] = []
let answerScrapes = true
// Reports off (0): each test ends its own intervals with collectMetrics().
const gateway = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 1024, metricsIntervalMs: 0 }, (r) => {
  reports.push(r)
  if (r.t === 'scrape' && answerScrapes) setImmediate(() => gateway.scrapeResult(r.id, CONTROL_PLANE_TEXT))
})
let base = ''
let revision = 0
const upstreams: Upstream[] = []

interface VersionSpec { name: string, namespace?: string, timeoutMs?: number, concurrency?: number, queueLimit?: number, path?: string }
interface InstanceSpec { id: string, fn: string, namespace?: string, u: Upstream, state?: 'ready' | 'draining' | 'starting' }

function table (versions: VersionSpec[], instances: InstanceSpec[]): RoutingTable {
  return {
    revision: ++revision,
    functions: versions.map((v) => {
      const namespace = v.namespace ?? 'default'
      return {
        key: `${namespace}/${v.name}`,
        namespace,
        name: v.name,
        paths: v.path === undefined ? [] : [v.path],
        versions: [{ key: `${namespace}/${v.name}@1`, version: 1, timeoutMs: v.timeoutMs ?? 5000, concurrency: v.concurrency ?? 10, queueLimit: v.queueLimit ?? 100 }],
        traffic: [{ version: 1, percent: 100 }]
      }
    }),
    instances: instances.map((i) => ({ id: i.id, versionKey: `${i.namespace ?? 'default'}/${i.fn}@1`, socketPath: i.u.fake.socketPath, secret: i.u.fake.secret, state: i.state ?? 'ready' }))
  }
}

function versionIn (report: GatewayMetricsReport, key: string): VersionMetrics {
  const found = report.versions.find((v) => v.key === key)
  assert.ok(found !== undefined, `${key} is in the report`)
  return found
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

async function until (what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`)
    await sleep(5)
  }
}

/** Open requests of a version right now, without ending the interval (the exposition's gauges). */
function openNow (key: string): { inFlight: number, waiting: number } {
  const [namespace, rest] = key.split('/')
  const [name, version] = rest.split('@')
  const labels = { namespace, function: name, version }
  const samples = parseExposition(gateway.exposition())
  return { inFlight: value(samples, 'roost_requests_in_flight', labels), waiting: value(samples, 'roost_activator_queue_length', labels) }
}

before(async () => {
  const address = await gateway.listen()
  base = `http://127.0.0.1:${address.port}`
})

after(async () => {
  await gateway.close()
  for (const u of upstreams) await u.fake.close()
})

test('two requests held open for a whole interval average a concurrency of 2, on the version and on its instance', async () => {
  const u = await upstream()
  gateway.applyTable(table([{ name: 'held' }, { name: 'idle' }], [{ id: 'h1', fn: 'held', u: u }]))
  const pending = [fetch(`${base}/fn/held?hold`), fetch(`${base}/fn/held?hold`)]
  await until('both requests reach the instance', () => u.held.length === 2)
  gateway.collectMetrics()
  await sleep(300)
  const report = gateway.collectMetrics()
  assert.ok(report.intervalMs >= 290 && report.intervalMs < 2000, `interval ${report.intervalMs}`)
  const held = versionIn(report, 'default/held@1')
  assert.ok(held.concurrency > 1.95 && held.concurrency <= 2.0001, `concurrency ${held.concurrency}`)
  assert.equal(held.inFlight, 2)
  assert.equal(held.waiting, 0)
  assert.equal(held.arrivals, 0, 'both arrived in the interval before')
  const instance = report.instances.find((i) => i.id === 'h1')
  assert.ok(instance !== undefined)
  assert.equal(instance.versionKey, 'default/held@1')
  assert.equal(instance.inFlight, 2)
  assert.ok(instance.concurrency > 1.95 && instance.concurrency <= 2.0001, `instance concurrency ${instance.concurrency}`)
  assert.deepEqual(versionIn(report, 'default/idle@1'), { key: 'default/idle@1', concurrency: 0, inFlight: 0, waiting: 0, arrivals: 0, rps: 0 }, 'an idle version is reported with zeros')

  u.release()
  await Promise.all(pending.map(async (p) => await (await p).text()))
  const after = versionIn(gateway.collectMetrics(), 'default/held@1')
  assert.equal(after.inFlight, 0)
  assert.ok(after.concurrency > 0 && after.concurrency <= 2.0001)
})

test('one request open for about half the interval averages about 0.5; arrivals and rps count the interval', async () => {
  const u = await upstream()
  gateway.applyTable(table([{ name: 'half' }], [{ id: 'half1', fn: 'half', u: u }]))
  gateway.collectMetrics()
  const started = performance.now()
  const pending = fetch(`${base}/fn/half?hold`)
  await until('the request reaches the instance', () => u.held.length === 1)
  await sleep(200)
  u.release()
  await (await pending).text()
  const openMs = performance.now() - started
  await sleep(200)
  const report = gateway.collectMetrics()
  const half = versionIn(report, 'default/half@1')
  // The request was open for at most openMs of the interval.
  const expected = openMs / report.intervalMs
  assert.ok(half.concurrency > 0.3 && half.concurrency <= expected + 0.01, `concurrency ${half.concurrency}, at most ${expected}`)
  assert.equal(half.arrivals, 1)
  assert.ok(Math.abs(half.rps - 1000 / report.intervalMs) < 1e-9, `rps ${half.rps}`)
})

test('at zero instances waiting requests are the demand: they count in waiting and in concurrency, and as cold starts', async () => {
  gateway.applyTable(table([{ name: 'zero' }], []))
  const pending = [1, 2, 3].map(async () => await fetch(`${base}/fn/zero`))
  await until('three requests wait', () => openNow('default/zero@1').waiting === 3)
  gateway.collectMetrics()
  await sleep(200)
  const report = gateway.collectMetrics()
  const zero = versionIn(report, 'default/zero@1')
  assert.equal(zero.waiting, 3)
  assert.equal(zero.inFlight, 0)
  assert.ok(zero.concurrency > 2.95 && zero.concurrency <= 3.0001, `concurrency ${zero.concurrency}`)
  assert.ok(!report.instances.some((i) => i.versionKey === 'default/zero@1'))

  const u = await upstream()
  gateway.applyTable(table([{ name: 'zero' }], [{ id: 'z1', fn: 'zero', u: u }]))
  for (const response of await Promise.all(pending)) assert.equal(response.status, 200)
  // A request arriving now finds a ready instance: not a cold start.
  assert.equal((await fetch(`${base}/fn/zero`)).status, 200)
  const samples = parseExposition(gateway.exposition())
  const labels = { namespace: 'default', function: 'zero', version: '1' }
  assert.equal(value(samples, 'roost_cold_start_requests_total', labels), 3)
  assert.equal(value(samples, 'roost_cold_start_request_seconds_count', labels), 3)
  assert.ok(value(samples, 'roost_cold_start_request_seconds_sum', labels) >= 3 * 0.2, 'each waited at least the 200 ms interval')
  assert.equal(value(samples, 'roost_request_duration_seconds_count', labels), 4)
  assert.equal(value(samples, 'roost_request_arrivals_total', labels), 4)
  assert.equal(value(samples, 'roost_activator_queue_length', labels), 0)
})

test('no instance ever holds more requests than the concurrency limit, in the report either', async () => {
  const [a, b] = [await upstream(), await upstream()]
  gateway.applyTable(table([{ name: 'limit', concurrency: 2 }], [{ id: 'la', fn: 'limit', u: a }, { id: 'lb', fn: 'limit', u: b }]))
  gateway.collectMetrics()
  let done = false
  const load = Promise.all(Array.from({ length: 24 }, async () => await (await fetch(`${base}/fn/limit?delay=20`)).text())).finally(() => { done = true })
  let sawWaiting = false
  let reportsSeen = 0
  while (!done) {
    await sleep(7)
    const report = gateway.collectMetrics()
    reportsSeen++
    for (const instance of report.instances.filter((i) => i.versionKey === 'default/limit@1')) {
      assert.ok(instance.inFlight <= 2, `${instance.id} in flight ${instance.inFlight}`)
      assert.ok(instance.concurrency <= 2.0001, `${instance.id} concurrency ${instance.concurrency}`)
    }
    const version = versionIn(report, 'default/limit@1')
    assert.ok(version.inFlight <= 4)
    if (version.waiting > 0) sawWaiting = true
  }
  await load
  assert.ok(reportsSeen > 2)
  assert.ok(sawWaiting, 'with 24 requests on 4 slots some waited')
})

test('status classes and latency histograms reach the exposition, labels escaped', async () => {
  const u = await upstream()
  const namespace = 'we"ird\\ns\nx'
  const name = 'fn\\"q'
  gateway.applyTable(table([{ name, namespace, path: '/weird', timeoutMs: 300 }], [{ id: 'w1', fn: name, namespace, u: u }]))
  const statuses = [200, 200, 201, 302, 404, 404, 500]
  for (const s of statuses) assert.equal((await fetch(`${base}/weird?s=${s}`, { redirect: 'manual' })).status, s)
  assert.equal((await fetch(`${base}/weird?hang`)).status, 504, 'the gateway\'s own timeout counts as 5xx')

  const text = gateway.exposition()
  // The escaped label values, as written on the wire.
  assert.ok(text.includes('namespace="we\\"ird\\\\ns\\nx",function="fn\\\\\\"q",version="1"'), 'label values are escaped')
  const samples = parseExposition(text)
  const labels = { namespace, function: name, version: '1' }
  assert.equal(value(samples, 'roost_requests_total', { ...labels, code: '1xx' }), 0)
  assert.equal(value(samples, 'roost_requests_total', { ...labels, code: '2xx' }), 3)
  assert.equal(value(samples, 'roost_requests_total', { ...labels, code: '3xx' }), 1)
  assert.equal(value(samples, 'roost_requests_total', { ...labels, code: '4xx' }), 2)
  assert.equal(value(samples, 'roost_requests_total', { ...labels, code: '5xx' }), 2)
  const buckets = find(samples, 'roost_request_duration_seconds_bucket', labels)
  assert.equal(buckets.length, 16)
  assert.equal(buckets[buckets.length - 1].labels.le, '+Inf')
  assert.equal(buckets[buckets.length - 1].value, 8)
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'buckets are cumulative')
  assert.ok(value(samples, 'roost_request_duration_seconds_bucket', { ...labels, le: '0.25' }) <= 7, 'the 504 took its 300 ms timeout')
  assert.equal(value(samples, 'roost_request_duration_seconds_count', labels), 8)
  assert.ok(value(samples, 'roost_request_duration_seconds_sum', labels) >= 0.3)
  assert.equal(value(samples, 'roost_cold_start_requests_total', labels), 0)
  // Each family is written once, with its TYPE, before its samples.
  for (const family of ['roost_requests_total counter', 'roost_request_duration_seconds histogram', 'roost_requests_in_flight gauge', 'roost_activator_queue_length gauge', 'roost_cold_start_request_seconds histogram', 'roost_cold_start_requests_total counter']) {
    assert.equal(text.split(`# TYPE ${family}\n`).length, 2, family)
  }
})

test('a full queue\'s 503 and a start failure\'s 502 are counted as 5xx', async () => {
  gateway.applyTable(table([{ name: 'full', queueLimit: 1 }], []))
  const waiting = fetch(`${base}/fn/full`)
  await until('one request waits', () => openNow('default/full@1').waiting === 1)
  assert.equal((await fetch(`${base}/fn/full`)).status, 503)
  gateway.startFailed('default/full@1', 'boom')
  assert.equal((await waiting).status, 502)
  const samples = parseExposition(gateway.exposition())
  assert.equal(value(samples, 'roost_requests_total', { function: 'full', code: '5xx' }), 2)
  assert.equal(value(samples, 'roost_cold_start_requests_total', { function: 'full' }), 1, 'the rejected one never waited')
  assert.equal(value(samples, 'roost_activator_queue_length', { function: 'full' }), 0)
})

test('GET /metrics on the gateway port answers the gateway\'s series and the control plane\'s, before any route', async () => {
  const u = await upstream()
  // A function routed at /metrics and /healthz does not take them.
  gateway.applyTable(table([{ name: 'greedy', path: '/metrics' }, { name: 'health', path: '/healthz' }], [{ id: 'g1', fn: 'greedy', u: u }, { id: 'hz1', fn: 'health', u: u }]))
  const response = await fetch(`${base}/metrics?name[]=x`)
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const text = await response.text()
  const samples = parseExposition(text)
  assert.equal(value(samples, 'roost_test_marker'), 1, 'the control plane\'s part')
  assert.equal(value(samples, 'roost_requests_total', { function: 'greedy', code: '2xx' }), 0, 'the gateway\'s part')
  assert.equal(await (await fetch(`${base}/healthz?probe=1`)).text(), 'ok\n')
  // Below the reserved paths, the function's route applies.
  assert.equal(await (await fetch(`${base}/metrics/x`)).text(), 'ok')
  assert.equal(await (await fetch(`${base}/metricsx`)).status, 404)
  assert.equal((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status, 405)
})

test('GET /metrics answers with the gateway\'s part alone when the control plane does not answer in time', async () => {
  answerScrapes = false
  try {
    const started = Date.now()
    const response = await fetch(`${base}/metrics`)
    assert.equal(response.status, 200)
    const text = await response.text()
    assert.ok(Date.now() - started >= 1900)
    assert.ok(text.includes('# TYPE roost_requests_total counter'))
    assert.ok(!text.includes('roost_test_marker'))
  } finally {
    answerScrapes = true
  }
})

test('a deleted version\'s series disappear, once its last open request is answered', async () => {
  const u = await upstream()
  gateway.applyTable(table([{ name: 'doomed' }, { name: 'gone' }], [{ id: 'd1', fn: 'doomed', u: u }, { id: 'g2', fn: 'gone', u: u }]))
  assert.equal((await fetch(`${base}/fn/gone`)).status, 200)
  const pending = fetch(`${base}/fn/doomed?hold`)
  await until('the request reaches the instance', () => u.held.length === 1)
  assert.ok(gateway.exposition().includes('function="gone"'))
  gateway.applyTable(table([], []))
  assert.ok(!gateway.exposition().includes('function="gone"'), 'a deleted version with nothing open leaves at once')
  // A retired version with a request in flight stays, in the exposition and the report.
  assert.ok(gateway.exposition().includes('function="doomed"'))
  assert.equal(versionIn(gateway.collectMetrics(), 'default/doomed@1').inFlight, 1)
  u.release()
  assert.equal((await pending).status, 200)
  await until('the retired version is dropped', () => !gateway.exposition().includes('function="doomed"'))
  assert.ok(!gateway.collectMetrics().versions.some((v) => v.key === 'default/doomed@1'))
})

test('the gateway reports its metrics on a timer, and stops on close', async () => {
  const seen: GatewayReport[] = []
  const timed = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 1024, metricsIntervalMs: 50 }, (r) => seen.push(r))
  await timed.listen()
  timed.applyTable(table([{ name: 'timed' }], []))
  await until('three reports arrive', () => seen.filter((r) => r.t === 'metrics').length >= 3)
  const report = seen.find((r): r is GatewayMetricsReport => r.t === 'metrics')
  assert.ok(report !== undefined)
  assert.ok(Math.abs(report.at - Date.now()) < 5000)
  assert.ok(report.intervalMs > 0)
  await timed.close()
  const count = seen.length
  await sleep(150)
  assert.equal(seen.length, count, 'no report after close')
})
