import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request, type IncomingMessage } from 'node:http'
import { Gateway } from '../../src/gateway/index.js'
import type { RoutingTable } from '../../src/gateway/index.js'
import type { GatewayReport } from '../../src/gateway/routing-table.js'
import { FakeInstance, type FakeHandler } from './fake-instance.js'
import { until } from '../helpers/wait.js'

// The gateway against fake instances speaking the framed protocol over Unix
// sockets: what it forwards, how it limits, holds, times out and fails requests.

const reports: GatewayReport[] = []
const gateway = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 1024 }, (r) => reports.push(r))
let base = ''
let revision = 0
const upstreams: FakeInstance[] = []

function table (versions: Array<{ name: string, timeoutMs?: number, concurrency?: number, queueLimit?: number, path?: string }>, instances: Array<{ id: string, fn: string, u: FakeInstance, state?: 'ready' | 'draining' | 'starting' }>): RoutingTable {
  return {
    revision: ++revision,
    functions: versions.map((v) => ({
      key: `default/${v.name}`,
      namespace: 'default',
      name: v.name,
      paths: v.path === undefined ? [] : [v.path],
      versions: [{ key: `default/${v.name}@1`, version: 1, timeoutMs: v.timeoutMs ?? 5000, concurrency: v.concurrency ?? 10, queueLimit: v.queueLimit ?? 100 }],
      traffic: [{ version: 1, percent: 100 }]
    })),
    instances: instances.map((i) => ({ id: i.id, versionKey: `default/${i.fn}@1`, socketPath: i.u.socketPath, secret: i.u.secret, state: i.state ?? 'ready' }))
  }
}

before(async () => {
  const address = await gateway.listen()
  base = `http://127.0.0.1:${address.port}`
})

after(async () => {
  await gateway.close()
  for (const u of upstreams) await u.close()
})

async function upstream (handler: FakeHandler): Promise<FakeInstance> {
  const u = await FakeInstance.start(handler)
  upstreams.push(u)
  return u
}

test('forwards method, path, query, headers and body, and sets the forwarding headers', async () => {
  const u = await upstream((req, res) => {
    void req.body().then((body) => res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString(), deadline: req.head.deadline, requestId: req.head.requestId })))
  })
  gateway.applyTable(table([{ name: 'echo', path: '/echo' }], [{ id: 'e1', fn: 'echo', u }]))
  const response = await fetch(`${base}/fn/echo/a/b?c=d`, { method: 'POST', body: 'payload', headers: { 'x-custom': 'yes', 'x-request-id': 'given-id-1' } })
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('x-request-id'), 'given-id-1')
  const seen = await response.json() as { method: string, url: string, headers: Record<string, string>, body: string, deadline: number, requestId: string }
  assert.equal(seen.method, 'POST')
  assert.equal(seen.url, '/a/b?c=d')
  assert.equal(seen.body, 'payload')
  assert.equal(seen.headers['x-custom'], 'yes')
  assert.equal(seen.headers['x-request-id'], 'given-id-1')
  assert.equal(seen.headers['x-forwarded-prefix'], '/fn/echo')
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1')
  assert.ok(seen.deadline > Date.now(), 'the deadline is in the future')
  assert.equal(seen.requestId, 'given-id-1')
  assert.equal(u.connections[0].hello, u.secret, 'the connection opened with the secret')

  const viaPath = await (await fetch(`${base}/echo/x`)).json() as { url: string, headers: Record<string, string> }
  assert.equal(viaPath.url, '/x')
  assert.equal(viaPath.headers['x-forwarded-prefix'], '/echo')
})

test('an invalid incoming request id is replaced by one of the gateway', async () => {
  const u = await upstream((req, res) => res.end(String(req.headers['x-request-id'])))
  gateway.applyTable(table([{ name: 'id' }], [{ id: 'i1', fn: 'id', u }]))
  const response = await fetch(`${base}/fn/id`, { headers: { 'x-request-id': 'bad id with spaces' } })
  const id = await response.text()
  assert.notEqual(id, 'bad id with spaces')
  assert.equal(response.headers.get('x-request-id'), id)
})

test('never sends an instance more requests than its concurrency; the rest wait and are served', async () => {
  const u = await upstream((req, res) => setTimeout(() => res.end('ok'), 30))
  gateway.applyTable(table([{ name: 'limited', concurrency: 2 }], [{ id: 'l1', fn: 'limited', u }]))
  const responses = await Promise.all(Array.from({ length: 12 }, async () => await fetch(`${base}/fn/limited`)))
  assert.deepEqual(responses.map((r) => r.status), Array(12).fill(200))
  assert.equal(u.maxInflight, 2)
})

test('a full queue answers 503 with Retry-After at once', async () => {
  const u = await upstream((req, res) => setTimeout(() => res.end('ok'), 200))
  gateway.applyTable(table([{ name: 'small', concurrency: 1, queueLimit: 2 }], [{ id: 's1', fn: 'small', u }]))
  const responses = await Promise.all(Array.from({ length: 5 }, async () => await fetch(`${base}/fn/small`)))
  const statuses = responses.map((r) => r.status).sort()
  assert.deepEqual(statuses, [200, 200, 200, 503, 503])
  const rejected = responses.find((r) => r.status === 503)
  assert.equal(rejected?.headers.get('retry-after'), '1')
  assert.equal(rejected?.headers.get('content-type'), 'application/problem+json')
})

test('with no instance a request is held, demand is reported, and it is released to the first ready instance', async () => {
  reports.length = 0
  gateway.applyTable(table([{ name: 'cold' }], []))
  const pending = fetch(`${base}/fn/cold`)
  const deadline = Date.now() + 2000
  while (!reports.some((r) => r.t === 'demand' && r.versionKey === 'default/cold@1')) {
    assert.ok(Date.now() < deadline, 'demand reported')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const u = await upstream((req, res) => res.end('warm now'))
  gateway.applyTable(table([{ name: 'cold' }], [{ id: 'c1', fn: 'cold', u, state: 'starting' }]))
  gateway.applyTable(table([{ name: 'cold' }], [{ id: 'c1', fn: 'cold', u, state: 'ready' }]))
  const response = await pending
  assert.equal(await response.text(), 'warm now')
})

test('a start failure answers the held requests with 502 and the reason', async () => {
  gateway.applyTable(table([{ name: 'broken' }], []))
  const pending = fetch(`${base}/fn/broken`)
  await new Promise((resolve) => setTimeout(resolve, 50))
  gateway.startFailed('default/broken@1', 'the module failed to load: boom')
  const response = await pending
  assert.equal(response.status, 502)
  const problem = await response.json() as { code: string, detail: string }
  assert.equal(problem.code, 'ROOST_E_START_FAILED')
  assert.match(problem.detail, /boom/)
})

test('a request past its timeout gets 504 and the instance is reported as suspect', async () => {
  reports.length = 0
  const u = await upstream(() => { /* never answers */ })
  gateway.applyTable(table([{ name: 'slow', timeoutMs: 200 }], [{ id: 'slow1', fn: 'slow', u }]))
  const response = await fetch(`${base}/fn/slow`)
  assert.equal(response.status, 504)
  assert.equal((await response.json() as { code: string }).code, 'ROOST_E_TIMEOUT')
  assert.ok(reports.some((r) => r.t === 'suspect' && r.instanceId === 'slow1'))
  await until(() => u.requests[0]?.connection.streams.size === 0, 'the stream cancelled on the instance', 5000)
})

test('an instance that dies mid-request gives its open requests 502 crashed; another instance serves on', async () => {
  const dying = await upstream((req) => { if (req.url === '/die') req.connection.socket.destroy() })
  const other = await upstream((req, res) => res.end('fine'))
  gateway.applyTable(table([{ name: 'dying' }], [{ id: 'd1', fn: 'dying', u: dying }]))
  const dead = await fetch(`${base}/fn/dying/die`)
  assert.equal(dead.status, 502)
  assert.equal((await dead.json() as { code: string }).code, 'ROOST_E_INSTANCE_CRASHED')
  gateway.applyTable(table([{ name: 'dying' }], [{ id: 'd1', fn: 'dying', u: dying }, { id: 'd2', fn: 'dying', u: other }]))
  const fine = await fetch(`${base}/fn/dying/ok`)
  assert.equal(fine.status, 200)
  assert.equal(await fine.text(), 'fine')
})

test('a body over the limit gets 413: a Content-Length over it never reaches the instance, a chunked one is cancelled', async () => {
  let cancels = 0
  const u = await upstream((req, res) => {
    req.on('cancel', () => { cancels++ })
    void req.body().then(() => res.end('should not be reached'))
  })
  gateway.applyTable(table([{ name: 'upload' }], [{ id: 'u1', fn: 'upload', u }]))
  const response = await fetch(`${base}/fn/upload`, { method: 'POST', body: 'x'.repeat(2048) })
  assert.equal(response.status, 413)
  assert.equal((await response.json() as { code: string }).code, 'ROOST_E_PAYLOAD_TOO_LARGE')
  assert.equal(u.requests.length, 0)
  const chunked = await fetch(`${base}/fn/upload`, {
    method: 'POST',
    body: new ReadableStream({ start (c) { c.enqueue(new Uint8Array(800)); c.enqueue(new Uint8Array(800)); c.close() } }),
    duplex: 'half'
  } as RequestInit)
  assert.equal(chunked.status, 413)
  assert.ok(u.requests.every((r) => r.received <= 1024), 'no more than the limit reached the instance')
  await until(() => cancels === u.requests.length, 'the streamed request cancelled on the instance', 5000)
})

test('a chunked body that passes the limit after the response began cuts the response off', async () => {
  let cancelled = false
  const u = await upstream((req, res) => {
    req.on('cancel', () => { cancelled = true })
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('started')
  })
  gateway.applyTable(table([{ name: 'early' }], [{ id: 'early1', fn: 'early', u }]))
  const req = request(`${base}/fn/early`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, agent: false })
  req.on('error', () => {})
  req.write(Buffer.alloc(800))
  const res = await new Promise<IncomingMessage>((resolve) => req.once('response', resolve))
  assert.equal(res.statusCode, 200)
  const first = await new Promise<Buffer>((resolve) => res.once('data', resolve))
  assert.equal(first.toString(), 'started')
  req.write(Buffer.alloc(800))
  await new Promise<void>((resolve) => res.once('close', resolve))
  assert.equal(res.complete, false, 'the response was cut off')
  await until(() => cancelled, 'the stream cancelled on the instance', 5000)
})

test('a draining instance gets no new requests', async () => {
  const a = await upstream((req, res) => res.end('a'))
  const b = await upstream((req, res) => res.end('b'))
  gateway.applyTable(table([{ name: 'drain' }], [{ id: 'a', fn: 'drain', u: a, state: 'draining' }, { id: 'b', fn: 'drain', u: b }]))
  for (let i = 0; i < 10; i++) assert.equal(await (await fetch(`${base}/fn/drain`)).text(), 'b')
})

test('responses stream through with their status and headers; hop-by-hop headers are dropped', async () => {
  const u = await upstream((req, res) => {
    res.writeHead(201, { 'x-app': 'yes', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked' })
    res.write('part1-')
    setTimeout(() => res.end('part2'), 20)
  })
  gateway.applyTable(table([{ name: 'stream' }], [{ id: 's', fn: 'stream', u }]))
  const response = await fetch(`${base}/fn/stream`)
  assert.equal(response.status, 201)
  assert.equal(response.headers.get('x-app'), 'yes')
  // The caller sees the gateway's own keep-alive terms, never the instance's.
  assert.notEqual(response.headers.get('keep-alive'), 'timeout=5')
  assert.equal(await response.text(), 'part1-part2')
})

test('unknown routes get 404 problem+json; /healthz answers', async () => {
  const response = await fetch(`${base}/fn/nothing-here`)
  assert.equal(response.status, 404)
  assert.equal(response.headers.get('content-type'), 'application/problem+json')
  assert.equal((await fetch(`${base}/healthz`)).status, 200)
})

test('a request in flight on a version that leaves the table still gets its 504 at the deadline', async () => {
  const u = await upstream(() => { /* never answers */ })
  gateway.applyTable(table([{ name: 'leaving', timeoutMs: 300 }], [{ id: 'leaving1', fn: 'leaving', u }]))
  const pending = fetch(`${base}/fn/leaving`)
  await new Promise((resolve) => setTimeout(resolve, 50))
  gateway.applyTable(table([], []))
  const response = await pending
  assert.equal(response.status, 504)
})

test('requests waiting for a version that leaves the table move to the version now routed', async () => {
  gateway.applyTable(table([{ name: 'moving' }], []))
  const pending = fetch(`${base}/fn/moving`)
  await new Promise((resolve) => setTimeout(resolve, 50))
  const u = await upstream((req, res) => res.end('v2 answered'))
  const next = table([{ name: 'moving' }], [])
  next.functions[0].versions = [{ key: 'default/moving@2', version: 2, timeoutMs: 5000, concurrency: 10, queueLimit: 100 }]
  next.functions[0].traffic = [{ version: 2, percent: 100 }]
  next.instances = [{ id: 'm2', versionKey: 'default/moving@2', socketPath: u.socketPath, secret: u.secret, state: 'ready' }]
  gateway.applyTable(next)
  assert.equal(await (await pending).text(), 'v2 answered')
})
