import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Gateway } from '../../src/gateway/index.js'
import type { RoutingTable } from '../../src/gateway/index.js'
import { FakeInstance, type FakeHandler } from './fake-instance.js'
import { until } from '../helpers/wait.js'

// HTTP as the caller sees it: Expect, requests node's parser rejects,
// upgrades, redirects, slow and abusive clients, the first routing table.

const run = promisify(execFile)
const BODY_LIMIT = 6 * 1024 * 1024
const gateway = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: BODY_LIMIT, headersTimeoutMs: 500, maxConnectionsPerClient: 1000 }, () => {})
let port = 0
let base = ''
let revision = 0
const fakes: FakeInstance[] = []
const dir = mkdtempSync(join(tmpdir(), 'roost-gateway-http-'))

function table (name: string, u: FakeInstance | null, options: { timeoutMs?: number, path?: string } = {}): RoutingTable {
  return {
    revision: ++revision,
    functions: [{
      key: `default/${name}`,
      namespace: 'default',
      name,
      paths: options.path === undefined ? [] : [options.path],
      versions: [{ key: `default/${name}@1`, version: 1, timeoutMs: options.timeoutMs ?? 5000, concurrency: 10, queueLimit: 100 }],
      traffic: [{ version: 1, percent: 100 }]
    }],
    instances: u === null ? [] : [{ id: `${name}-1`, versionKey: `default/${name}@1`, socketPath: u.socketPath, secret: u.secret, state: 'ready' }]
  }
}

async function fake (handler: FakeHandler): Promise<FakeInstance> {
  const u = await FakeInstance.start(handler)
  fakes.push(u)
  return u
}

const echoBody: FakeHandler = (req, res) => {
  void req.body().then((body) => res.end(JSON.stringify({ length: body.length, headers: req.headers })))
}

/** Sends raw bytes on a new connection; resolves with everything the gateway sent until it closed. */
async function raw (bytes: string | Buffer, target = port, options: { localAddress?: string } = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ port: target, host: '127.0.0.1', ...options })
    let received = ''
    socket.on('data', (chunk) => { received += chunk.toString('latin1') })
    socket.on('error', reject)
    socket.on('close', () => resolve(received))
    socket.write(bytes)
  })
}

function problemOf (response: string): { status: number, code: string, detail: string, headers: string } {
  const split = response.indexOf('\r\n\r\n')
  const head = response.slice(0, split)
  const body = JSON.parse(response.slice(split + 4)) as { code: string, detail: string }
  return { status: Number(head.split(' ')[1]), code: body.code, detail: body.detail, headers: head.toLowerCase() }
}

before(async () => {
  port = (await gateway.listen()).port
  base = `http://127.0.0.1:${port}`
})

after(async () => {
  await gateway.close()
  for (const u of fakes) await u.close()
  rmSync(dir, { recursive: true, force: true })
})

test('curl\'s Expect: 100-continue upload of 5 MiB is answered 100 and forwarded without Expect', async () => {
  const u = await fake(echoBody)
  gateway.applyTable(table('expect', u))
  const file = join(dir, '5mb.bin')
  writeFileSync(file, Buffer.alloc(5 * 1024 * 1024, 'z'))
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '--data-binary', `@${file}`, `${base}/fn/expect`], { maxBuffer: 1024 * 1024 })
  assert.match(stderr, /> Expect: 100-continue/i, 'curl sent Expect')
  assert.match(stderr, /< HTTP\/1\.1 100 Continue/, 'the gateway answered 100 Continue')
  const seen = JSON.parse(stdout) as { length: number, headers: Record<string, string> }
  assert.equal(seen.length, 5 * 1024 * 1024)
  assert.equal(seen.headers.expect, undefined, 'Expect is not forwarded')
})

test('Expect with a Content-Length over the limit gets 413 at once; another expectation gets 417', async () => {
  const u = await fake(echoBody)
  gateway.applyTable(table('expect2', u))
  const file = join(dir, '7mb.bin')
  writeFileSync(file, Buffer.alloc(7 * 1024 * 1024, 'z'))
  const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--data-binary', `@${file}`, `${base}/fn/expect2`])
  assert.equal(stdout, '413')
  assert.equal(u.requests.length, 0)
  const answer = problemOf(await raw('POST /fn/expect2 HTTP/1.1\r\nhost: x\r\nexpect: something-else\r\ncontent-length: 2\r\n\r\n'))
  assert.equal(answer.status, 417)
  assert.equal(answer.code, 'ROOST_E_EXPECTATION_FAILED')
})

test('requests node\'s parser rejects get a problem saying why', async () => {
  const badUrl = problemOf(await raw(Buffer.concat([Buffer.from('GET /fn/x/'), Buffer.from([0xc3, 0xa9]), Buffer.from(' HTTP/1.1\r\nhost: x\r\n\r\n')])))
  assert.equal(badUrl.status, 400)
  assert.equal(badUrl.code, 'ROOST_E_BAD_REQUEST')
  assert.match(badUrl.detail, /HPE_/)
  const badHeader = problemOf(await raw('GET / HTTP/1.1\r\nbad header: x\r\n\r\n'))
  assert.equal(badHeader.status, 400)
  assert.match(badHeader.detail, /header/i)
  const large = problemOf(await raw(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`))
  assert.equal(large.status, 431)
  assert.equal(large.code, 'ROOST_E_HEADERS_TOO_LARGE')
})

test('headers that do not arrive within the headers timeout get 408 and the connection closed', async () => {
  const answer = problemOf(await raw('GET /fn/x HTTP/1.1\r\nhost: x\r\n'))
  assert.equal(answer.status, 408)
  assert.equal(answer.code, 'ROOST_E_REQUEST_TIMEOUT')
})

test('a WebSocket upgrade gets 501, not a plain GET', async () => {
  const u = await fake((req, res) => res.end('should not be reached'))
  gateway.applyTable(table('ws', u))
  const answer = problemOf(await raw('GET /fn/ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'))
  assert.equal(answer.status, 501)
  assert.equal(answer.code, 'ROOST_E_UPGRADE_UNSUPPORTED')
  assert.match(answer.detail, /WebSocket/)
  assert.equal(u.requests.length, 0)
})

test('Location headers under the stripped prefix are rewritten back under it', async () => {
  const u = await fake((req, res) => {
    const location = req.url === '/abs' ? `http://${req.headers.host}/echo?x=1` : req.url === '/other' ? 'https://example.com/echo' : req.url === '/rel' ? 'echo' : req.url === '/already' ? '/fn/redirect/echo' : '/echo'
    res.writeHead(302, { location })
    res.end()
  })
  gateway.applyTable(table('redirect', u, { path: '/app' }))
  const location = async (path: string): Promise<string | null> => (await fetch(`${base}${path}`, { redirect: 'manual' })).headers.get('location')
  assert.equal(await location('/fn/redirect/path'), '/fn/redirect/echo')
  assert.equal(await location('/fn/redirect/abs'), `http://127.0.0.1:${port}/fn/redirect/echo?x=1`)
  assert.equal(await location('/app/path'), '/app/echo')
  assert.equal(await location('/fn/redirect/other'), 'https://example.com/echo', 'another host is left alone')
  assert.equal(await location('/fn/redirect/rel'), 'echo', 'a relative reference is left alone')
  assert.equal(await location('/fn/redirect/already'), '/fn/redirect/echo', 'a path already under the prefix is left alone')
})

test('a body still trickling at the deadline: 504 if it was sent to an instance, 408 if not; the connection is closed', async () => {
  const u = await fake((req) => { void req.body() })
  gateway.applyTable(table('trickle', u, { timeoutMs: 300 }))
  // A chunked body streams to the instance as it arrives.
  const sent = problemOf(await raw('POST /fn/trickle HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nb\r\nonly-a-part\r\n'))
  assert.equal(sent.status, 504)
  assert.match(sent.headers, /connection: close/)
  assert.equal(u.requests[0].received, 'only-a-part'.length, 'the instance had what arrived')
  // A small body with a Content-Length is read whole first: trickling, it never takes the instance's slot.
  const buffered = problemOf(await raw('POST /fn/trickle HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly-a-part'))
  assert.equal(buffered.status, 408)
  assert.equal(buffered.code, 'ROOST_E_REQUEST_TIMEOUT')
  assert.equal(u.requests.length, 1, 'the instance never saw the trickling request')
  gateway.applyTable(table('trickle', null, { timeoutMs: 300 }))
  const waiting = problemOf(await raw('POST /fn/trickle HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly-a-part'))
  assert.equal(waiting.status, 408)
  assert.equal(waiting.code, 'ROOST_E_REQUEST_TIMEOUT')
})

test('connections over the caps get 503 with Retry-After on the socket, then are closed', async () => {
  const capped = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 1024, maxConnections: 3, maxConnectionsPerClient: 2, metricsIntervalMs: 0 }, () => {})
  const cappedPort = (await capped.listen()).port
  const held: Socket[] = []
  try {
    capped.applyTable(table('cap', null))
    for (let i = 0; i < 2; i++) {
      const socket = connect(cappedPort, '127.0.0.1')
      socket.on('error', () => {})
      held.push(socket)
    }
    await until(() => capped.connections === 2, 'two connections held', 5000)
    const perClient = problemOf(await raw('GET /fn/cap HTTP/1.1\r\nhost: x\r\n\r\n', cappedPort))
    assert.equal(perClient.status, 503)
    assert.equal(perClient.code, 'ROOST_E_TOO_MANY_CONNECTIONS')
    assert.match(perClient.headers, /retry-after: 1/)
    assert.match(perClient.detail, /from 127\.0\.0\.1/)
    // Another address on the loopback is under its own cap, until the total one.
    const other = connect({ port: cappedPort, host: '127.0.0.1', localAddress: '127.0.0.2' })
    other.on('error', () => {})
    held.push(other)
    await until(() => capped.connections === 3, 'three connections held', 5000)
    const total = problemOf(await raw('GET / HTTP/1.1\r\nhost: x\r\n\r\n', cappedPort, { localAddress: '127.0.0.3' }))
    assert.equal(total.status, 503)
    assert.match(total.detail, /maximum of 3 connections/)
    // Over the caps, /healthz and /metrics still answer (on a connection that then closes).
    const health = await raw('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n', cappedPort)
    assert.match(health, /^HTTP\/1\.1 200 /)
    assert.match(health, /\r\nok\n\r\n/)
    const metrics = await raw('GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n', cappedPort, { localAddress: '127.0.0.3' })
    assert.match(metrics, /^HTTP\/1\.1 200 /)
    for (const socket of held) socket.destroy()
    await until(() => capped.connections === 0, 'connections released', 5000)
    assert.equal((await fetch(`http://127.0.0.1:${cappedPort}/healthz`)).status, 200)
  } finally {
    for (const socket of held) socket.destroy()
    await capped.close()
  }
})

test('requests before the first routing table wait for it (never 404), or get 503 with Retry-After', async () => {
  const late = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 1024, tableWaitMs: 300, metricsIntervalMs: 0 }, () => {})
  const latePort = (await late.listen()).port
  try {
    const u = await fake((req, res) => res.end('routed'))
    assert.equal((await fetch(`http://127.0.0.1:${latePort}/healthz`)).status, 200, '/healthz answers before any table')
    const tooLate = await fetch(`http://127.0.0.1:${latePort}/fn/late`)
    assert.equal(tooLate.status, 503)
    assert.equal(tooLate.headers.get('retry-after'), '1')
    assert.equal((await tooLate.json() as { code: string }).code, 'ROOST_E_NOT_READY')
    const waiting = fetch(`http://127.0.0.1:${latePort}/fn/late`)
    await new Promise((resolve) => setTimeout(resolve, 100))
    late.applyTable(table('late', u))
    const response = await waiting
    assert.equal(response.status, 200)
    assert.equal(await response.text(), 'routed')
  } finally {
    await late.close()
  }
})
