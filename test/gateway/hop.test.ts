import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Gateway } from '../../src/gateway/index.js'
import type { RoutingTable } from '../../src/gateway/index.js'
import type { GatewayReport } from '../../src/gateway/routing-table.js'
import { FrameType } from '../../src/wire/index.js'
import { FakeInstance, answer, type FakeHandler, type FakeRequest } from './fake-instance.js'
import { until } from '../helpers/wait.js'

// The hop to instances: one framed connection per instance, streams
// multiplexed on it, bodies streamed both ways with flow control, the drain
// handshake, and which failures are retried, which are crashes.

const reports: GatewayReport[] = []
const gateway = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024 * 1024 }, (r) => reports.push(r))
let port = 0
let base = ''
let revision = 0
const fakes: FakeInstance[] = []

interface Target { id: string, u?: FakeInstance, socketPath?: string, state?: 'ready' | 'draining' | 'starting' }

function route (name: string, targets: Target[], options: { timeoutMs?: number, concurrency?: number } = {}): void {
  const table: RoutingTable = {
    revision: ++revision,
    functions: [{
      key: `default/${name}`,
      namespace: 'default',
      name,
      paths: [],
      versions: [{ key: `default/${name}@1`, version: 1, timeoutMs: options.timeoutMs ?? 5000, concurrency: options.concurrency ?? 10, queueLimit: 100 }],
      traffic: [{ version: 1, percent: 100 }]
    }],
    instances: targets.map((t) => ({ id: t.id, versionKey: `default/${name}@1`, socketPath: t.socketPath ?? t.u?.socketPath ?? '', secret: t.u?.secret ?? 'ab'.repeat(32), state: t.state ?? 'ready' }))
  }
  gateway.applyTable(table)
}

async function fake (handler: FakeHandler): Promise<FakeInstance> {
  const u = await FakeInstance.start(handler)
  fakes.push(u)
  return u
}

/** A request through node's client, resolved at its response head (the body unread). */
async function open (path: string, options: { method?: string, headers?: Record<string, string>, body?: (write: (chunk: string | Buffer) => void, end: () => void) => void } = {}): Promise<IncomingMessage> {
  return await new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: options.method ?? 'GET', headers: options.headers, agent: false }, resolve)
    req.on('error', reject)
    if (options.body === undefined) req.end()
    else options.body((chunk) => req.write(chunk), () => req.end())
  })
}

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

async function text (res: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return body
}

before(async () => {
  port = (await gateway.listen()).port
  base = `http://127.0.0.1:${port}`
})

after(async () => {
  await gateway.close()
  for (const u of fakes) await u.close()
})

test('Hello with the secret comes first; concurrent requests are streams of one connection', async () => {
  const held: Array<() => void> = []
  const u = await fake((req, res) => held.push(() => res.end(`answer ${req.url}`)))
  route('mux', [{ id: 'mux1', u }])
  const pending = [1, 2, 3, 4, 5].map(async (i) => await fetch(`${base}/fn/mux/${i}`))
  await until(() => u.requests.length === 5, 'five requests at the instance', 5000)
  assert.equal(u.connections.length, 1, 'one connection for all of them')
  assert.equal(u.connections[0].hello, u.secret)
  assert.equal(u.badHellos, 0)
  assert.deepEqual(u.connections[0].opened, [1, 2, 3, 4, 5])
  for (const release of held) release()
  const bodies = await Promise.all(pending.map(async (p) => await (await p).text()))
  assert.deepEqual(bodies.sort(), ['answer /1', 'answer /2', 'answer /3', 'answer /4', 'answer /5'])
})

test('a request body streams to the instance as it arrives', async () => {
  const firstChunk = deferred()
  const u = await fake((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
      if (body === 'first-') firstChunk.resolve()
    })
    req.on('end', () => res.end(`got ${body}`))
  })
  route('upload', [{ id: 'up1', u }])
  const response = open('/fn/upload', {
    method: 'POST',
    headers: { 'transfer-encoding': 'chunked' },
    body: (write, end) => {
      write('first-')
      // The second chunk is sent only once the instance has the first.
      void firstChunk.promise.then(() => { write('second'); end() })
    }
  })
  const res = await response
  assert.equal(await text(res), 'got first-second')
})

test('the response head and first chunk reach the caller before the instance sends the second', async () => {
  const gotFirst = deferred()
  const u = await fake((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: one\n\n')
    void gotFirst.promise.then(() => res.end('data: two\n\n'))
  })
  route('sse', [{ id: 'sse1', u }])
  const res = await open('/fn/sse')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'text/event-stream')
  const [first] = await new Promise<[Buffer]>((resolve) => res.once('data', (chunk: Buffer) => resolve([chunk])))
  assert.equal(first.toString(), 'data: one\n\n')
  gotFirst.resolve()
  assert.equal(await text(res), 'data: two\n\n')
})

test('a response whole in one read goes out with a Content-Length; HEAD keeps the instance\'s', async () => {
  const u = await fake((req, res) => {
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': 1234 })
      res.end()
      return
    }
    res.writeHead(200, { 'x-kind': 'whole' })
    res.write('hello ')
    res.end('world')
  })
  route('whole', [{ id: 'w1', u }])
  const res = await open('/fn/whole')
  assert.equal(res.headers['content-length'], '11')
  assert.equal(res.headers['transfer-encoding'], undefined)
  assert.equal(await text(res), 'hello world')
  const head = await open('/fn/whole', { method: 'HEAD' })
  assert.equal(head.headers['content-length'], '1234')
})

test('a caller that does not read gets its response stream paused, then resumed', async () => {
  let stream: { paused: boolean, signals: string[] } | null = null
  const chunk = Buffer.alloc(64 * 1024, 'x')
  let sent = 0
  const total = 64 * 1024 * 1024
  const u = await fake((req, res) => {
    stream = res
    res.writeHead(200, { 'content-length': total })
    const pump = (): void => {
      // The fake honours Pause as the runtime must.
      while (!res.paused && sent < total) {
        res.write(chunk)
        sent += chunk.length
        if (sent % (1024 * 1024) === 0) { setImmediate(pump); return }
      }
      if (sent >= total) res.end()
    }
    req.on('resume', pump)
    pump()
  })
  route('big', [{ id: 'big1', u }])
  const socket = connect(port, '127.0.0.1')
  socket.pause()
  socket.write('GET /fn/big HTTP/1.1\r\nhost: x\r\n\r\n')
  await until(() => stream?.signals.includes('pause') === true, 'the gateway sends Pause', 10_000)
  assert.ok(sent < total, 'the instance stopped before the end')
  let received = 0
  socket.on('data', (data: Buffer) => { received += data.length })
  socket.resume()
  await until(() => stream?.signals.includes('resume') === true, 'the gateway sends Resume', 10_000)
  await until(() => received > total, 'the whole body reaches the caller', 20_000)
  socket.destroy()
})

test('Pause from the instance stops reading the caller\'s body until Resume', async () => {
  const total = 32 * 1024 * 1024
  let request: FakeRequest | null = null
  const u = await fake((req, res) => {
    request = req
    req.connection.send(FrameType.Pause, req.stream)
    void req.body().then((body) => res.end(String(body.length)))
  })
  route('paused', [{ id: 'p1', u }])
  const chunk = Buffer.alloc(256 * 1024, 'y')
  let written = 0
  const response = open('/fn/paused', {
    method: 'POST',
    headers: { 'content-length': String(total) },
    body: (write, end) => {
      for (; written < total; written += chunk.length) write(chunk)
      end()
    }
  })
  await until(() => request !== null, 'the request reaches the instance', 5000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const r = request as unknown as FakeRequest
  // Kernel buffers between the caller and the instance hold a few MiB at most.
  assert.ok(r.received < total / 2, `only ${r.received} of ${total} bytes passed a paused stream`)
  r.connection.send(FrameType.Resume, r.stream)
  const res = await response
  assert.equal(await text(res), String(total))
})

test('Refused goes to another instance', async () => {
  const refusing = await fake((req, res) => res.refuse())
  const serving = await fake((req, res) => { void req.body().then((body) => res.end(`served ${body.toString()}`)) })
  route('refuse', [{ id: 'r1', u: refusing }, { id: 'r2', u: serving }])
  const response = await fetch(`${base}/fn/refuse`, { method: 'POST', body: 'payload' })
  assert.equal(response.status, 200)
  assert.equal(await response.text(), 'served payload', 'the body went along to the second instance')
  assert.equal(refusing.requests.length, 1, 'the first instance was asked')
})

test('a connection that cannot be made (ENOENT, ECONNREFUSED) sends the request to another instance', async () => {
  const serving = await fake(answer('reached'))
  const notASocket = join(serving.dir, 'plain-file')
  writeFileSync(notASocket, '')
  route('connfail', [{ id: 'missing', socketPath: join(serving.dir, 'nothing-here.sock') }, { id: 'refusing', socketPath: notASocket }, { id: 'ok', u: serving }], { concurrency: 1 })
  const responses = await Promise.all([1, 2, 3].map(async () => await fetch(`${base}/fn/connfail`, { method: 'POST', body: 'b' })))
  for (const response of responses) {
    assert.equal(response.status, 200)
    assert.equal(await response.text(), 'reached')
  }
  assert.ok(reports.some((r) => r.t === 'suspect' && r.instanceId === 'missing'), 'the unreachable instance is reported')
})

test('GoAway: no new stream on that connection, closed after its last stream ends', async () => {
  const held: Array<() => void> = []
  const draining = await fake((req, res) => held.push(() => res.end('old')))
  const fresh = await fake(answer('new'))
  route('goaway', [{ id: 'g1', u: draining }])
  const first = fetch(`${base}/fn/goaway/first`)
  await until(() => draining.requests.length === 1, 'the first request at the instance', 5000)
  const connection = draining.connections[0]
  connection.goAway()
  // The control plane has not updated the table yet: the gateway must not send g1 anything new.
  route('goaway', [{ id: 'g1', u: draining }, { id: 'g2', u: fresh }])
  await new Promise((resolve) => setTimeout(resolve, 50))
  const second = await fetch(`${base}/fn/goaway/second`)
  assert.equal(await second.text(), 'new')
  assert.deepEqual(connection.opened, [1], 'no stream after GoAway')
  assert.equal(connection.closed, false, 'open while its stream is')
  held[0]()
  assert.equal(await (await first).text(), 'old')
  await until(() => connection.closed, 'the connection closed after its last stream', 5000)
  assert.equal(draining.connections.length, 1, 'no new connection to a draining instance')
})

test('a malformed frame from an instance ends its connection: 502 of the instance\'s fault, reported', async () => {
  const u = await fake((req) => req.connection.socket.write(Buffer.from([0, 0, 0, 1, 7, 0, 0, 0, 1])))
  route('garbage', [{ id: 'bad1', u }])
  const response = await fetch(`${base}/fn/garbage`)
  assert.equal(response.status, 502)
  assert.equal((await response.json() as { code: string }).code, 'ROOST_E_INSTANCE_PROTOCOL')
  await until(() => u.connections[0].closed, 'the connection destroyed', 5000)
  assert.ok(reports.some((r) => r.t === 'violation' && r.instanceId === 'bad1'))
  // The gateway keeps serving.
  assert.equal((await fetch(`${base}/healthz`)).status, 200)
})

test('an Abort after the head cuts the caller\'s response off', async () => {
  const u = await fake((req, res) => {
    res.writeHead(200, { 'content-length': 100 })
    res.write('partial')
    setTimeout(() => res.abort('the body stream failed'), 20)
  })
  route('abort', [{ id: 'a1', u }])
  const res = await open('/fn/abort')
  assert.equal(res.statusCode, 200)
  await assert.rejects(text(res), /aborted|ECONNRESET|terminated/)
})

test('a caller that leaves cancels its stream on the instance', async () => {
  let cancelled = false
  const u = await fake((req) => { req.on('cancel', () => { cancelled = true }) })
  route('leave', [{ id: 'l1', u }])
  const socket = connect(port, '127.0.0.1')
  socket.write('GET /fn/leave HTTP/1.1\r\nhost: x\r\n\r\n')
  await until(() => u.requests.length === 1, 'the request at the instance', 5000)
  socket.destroy()
  await until(() => cancelled, 'Cancel reaches the instance', 5000)
  assert.equal(u.inflight, 0)
})

test('rollouts under load lose nothing: GoAway, the table moves on, the old connection closes after its last stream', async () => {
  const serve: FakeHandler = (req, res) => { setImmediate(() => res.end('ok')) }
  let current = await fake(serve)
  let generation = 0
  route('roll', [{ id: `roll-${generation}`, u: current }])
  let stop = false
  const failures: string[] = []
  let served = 0
  const client = async (): Promise<void> => {
    while (!stop) {
      const response = await fetch(`${base}/fn/roll`)
      const body = await response.text()
      if (response.status === 200) served++
      else failures.push(`${response.status} ${body}`)
    }
  }
  const clients = Array.from({ length: 8 }, client)
  for (let i = 0; i < 10; i++) {
    await until(() => served > (i + 1) * 20, 'requests served', 10_000)
    const next = await fake(serve)
    const old = current
    const oldId = `roll-${generation}`
    generation++
    // The drain handshake, as the runtime does it: GoAway first, the table catches up later.
    for (const connection of old.connections) connection.goAway()
    route('roll', [{ id: oldId, u: old, state: 'draining' }, { id: `roll-${generation}`, u: next }])
    await until(() => old.connections.every((c) => c.closed), 'the drained connection closed by the gateway', 10_000)
    route('roll', [{ id: `roll-${generation}`, u: next }])
    await old.close()
    current = next
  }
  stop = true
  await Promise.all(clients)
  assert.deepEqual(failures, [])
  assert.ok(served > 200)
})

test('a dispatch error of the gateway\'s own is a 500 ROOST_E_GATEWAY, never "crashed"', async () => {
  // An empty socket path is refused by node before anything is sent: the platform's fault, not the instance's.
  route('misrouted', [{ id: 'm1', socketPath: '' }])
  const response = await fetch(`${base}/fn/misrouted`, { method: 'POST', body: 'x' })
  assert.equal(response.status, 500)
  const problem = await response.json() as { code: string, detail: string }
  assert.equal(problem.code, 'ROOST_E_GATEWAY')
  assert.match(problem.detail, /could not send the request/)
  const again = await fetch(`${base}/fn/misrouted`)
  assert.equal(again.status, 500, 'and the gateway keeps answering')
})

test('whatever an instance sends that breaks the protocol ends its connection, never the gateway', async () => {
  const frame = (type: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer => {
    const header = Buffer.alloc(9)
    header.writeUInt32BE(payload.length + 5, 0)
    header[4] = type
    header.writeUInt32BE(stream, 5)
    return Buffer.concat([header, payload])
  }
  const head = (status: number, headers: string[] = []): Buffer => {
    const parts = [Buffer.from([status >> 8, status & 255, headers.length >> 9, (headers.length >> 1) & 255])]
    for (let i = 0; i < headers.length; i += 2) {
      const name = Buffer.from(headers[i], 'latin1')
      const value = Buffer.from(headers[i + 1], 'latin1')
      const lengths = Buffer.alloc(6)
      lengths.writeUInt16BE(name.length, 0)
      parts.push(lengths.subarray(0, 2), name)
      lengths.writeUInt32BE(value.length, 2)
      parts.push(lengths.subarray(2, 6), value)
    }
    return Buffer.concat(parts)
  }
  const cases: Array<[string, (stream: number) => Buffer]> = [
    ['an oversized frame', () => Buffer.from([0x7f, 0xff, 0xff, 0xff, 7, 0, 0, 0, 1])],
    ['a length shorter than a header', () => Buffer.from([0, 0, 0, 1, 7, 0, 0, 0, 1])],
    ['an unknown frame type', (s) => frame(99, s)],
    ['a frame on a stream never opened', () => frame(FrameType.ResponseEnd, 9999)],
    ['a body before the head', (s) => frame(FrameType.ResponseBody, s, Buffer.from('x'))],
    ['a truncated head', (s) => frame(FrameType.Response, s, Buffer.from([0, 200, 0, 5]))],
    ['a status of 99', (s) => frame(FrameType.Response, s, head(99))],
    ['a header value node refuses', (s) => frame(FrameType.Response, s, head(200, ['x-bad', 'a\r\nb']))],
    ['two heads', (s) => Buffer.concat([frame(FrameType.Response, s, head(200)), frame(FrameType.Response, s, head(200))])],
    ['a request frame', (s) => frame(FrameType.Request, s)],
    ['a control frame on stream 0', () => frame(FrameType.Control, 0, Buffer.from('{}'))]
  ]
  for (const [what, bytes] of cases) {
    const u = await fake((req) => req.connection.socket.write(bytes(req.stream)))
    route('hostile', [{ id: `hostile-${what}`, u }])
    const response = await fetch(`${base}/fn/hostile`)
    assert.equal(response.status, 502, what)
    assert.equal((await response.json() as { code: string }).code, 'ROOST_E_INSTANCE_PROTOCOL', what)
    await until(() => u.connections[0].closed, `the connection closed after ${what}`, 5000)
    assert.ok(reports.some((r) => r.t === 'violation' && r.instanceId === `hostile-${what}`), `${what} is reported`)
  }
  assert.equal((await fetch(`${base}/healthz`)).status, 200)
})
