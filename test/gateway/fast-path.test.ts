import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
import { Gateway } from '../../src/gateway/index.js'
import type { RoutingTable } from '../../src/gateway/index.js'
import { FakeInstance, type FakeHandler } from './fake-instance.js'

// The fast path serves the requests it can read whole on its own, and hands a
// connection to node's HTTP server at the first request it cannot; either way
// the caller sees one well-formed HTTP/1.1 exchange after another. Responses
// are read here with llhttp (node's own parser), so a framing mistake fails.

const gateway = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, metricsIntervalMs: 0 }, () => {})
let port = 0
const instances: FakeInstance[] = []

before(async () => {
  port = (await gateway.listen()).port
})

after(async () => {
  await gateway.close()
  for (const instance of instances) await instance.close()
})

/** Routes /fn/f to a new instance that answers with `handler` (an instance that broke the protocol is not routed to again). */
async function serveWith (handler: FakeHandler): Promise<void> {
  const instance = await FakeInstance.start(handler)
  instances.push(instance)
  const table: RoutingTable = {
    revision: instances.length,
    functions: [{
      key: 'default/f',
      namespace: 'default',
      name: 'f',
      paths: [],
      versions: [{ key: 'default/f@1', version: 1, timeoutMs: 5000, concurrency: 100, queueLimit: 100 }],
      traffic: [{ version: 1, percent: 100 }]
    }],
    instances: [{ id: `f${instances.length}`, versionKey: 'default/f@1', socketPath: instance.socketPath, secret: instance.secret, state: 'ready' }]
  }
  gateway.applyTable(table)
}

/** Echoes method, path and body length; the path's last part picks a status. */
const echo: FakeHandler = (req, res) => {
  void req.body().then((body) => {
    const status = /\/status\/(\d+)$/.exec(req.url)?.[1]
    res.writeHead(status === undefined ? 200 : Number(status), { 'content-type': 'text/plain' })
    res.end(status === '204' || status === '304' ? undefined : `${req.method} ${req.url} ${body.length}`)
  })
}

interface Answer { status: number, headers: Record<string, string>, body: string }

const require = createRequire(import.meta.url)
const { HTTPParser } = require('_http_common') as {
  HTTPParser: (new () => { initialize: (type: number, resource: object) => void, execute: (data: Buffer) => number | Error, close: () => void, [key: number]: unknown }) &
  { RESPONSE: number, kOnHeaders: number, kOnHeadersComplete: number, kOnBody: number, kOnMessageComplete: number }
}

/**
 * Opens a connection, writes `parts` one after another (a pause between
 * them), and reads responses with llhttp until `count` are complete; `heads`
 * lists the requests that were HEAD, whose responses carry no body.
 */
async function exchange (parts: Array<string | Buffer>, count: number, heads: number[] = []): Promise<{ answers: Answer[], closed: boolean, socket: Socket }> {
  const socket = connect(port, '127.0.0.1')
  const answers: Answer[] = []
  const parser = new HTTPParser()
  parser.initialize(HTTPParser.RESPONSE, {})
  let current: Answer = { status: 0, headers: {}, body: '' }
  let closed = false
  let failure: Error | null = null
  parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[], _method: number, _url: string, status: number) => {
    current = { status, headers: {}, body: '' }
    for (let i = 0; i < headers.length; i += 2) current.headers[headers[i].toLowerCase()] = headers[i + 1]
    // llhttp must be told a response to HEAD has no body, as a client would.
    return heads.includes(answers.length) ? 1 : 0
  }
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => { current.body += chunk.toString('latin1') }
  parser[HTTPParser.kOnMessageComplete] = () => { answers.push(current) }
  socket.on('data', (chunk: Buffer) => {
    const parsed = parser.execute(chunk)
    if (parsed instanceof Error) failure = parsed
  })
  socket.on('close', () => { closed = true })
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 30))
    socket.write(parts[i])
  }
  const deadline = Date.now() + 5000
  while (answers.length < count && !closed && failure === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  // Anything more on the socket would be a response nobody asked for.
  await new Promise((resolve) => setTimeout(resolve, 30))
  parser.close()
  if (failure !== null) throw failure
  return { answers, closed, socket }
}

test('pipelined requests are answered in order on one connection, each with a Content-Length and a Date', async () => {
  await serveWith(echo)
  const get = (path: string): string => `GET /fn/f${path} HTTP/1.1\r\nHost: x\r\n\r\n`
  const { answers, closed, socket } = await exchange([get('/a') + get('/b') + get('/c')], 3)
  socket.destroy()
  assert.deepEqual(answers.map((a) => a.body), ['GET /a 0', 'GET /b 0', 'GET /c 0'])
  assert.equal(closed, false)
  for (const a of answers) {
    assert.equal(a.headers['content-length'], String(a.body.length))
    assert.ok(!Number.isNaN(Date.parse(a.headers.date)), 'a Date header')
    assert.equal(a.headers['content-type'], 'text/plain')
    assert.match(a.headers['x-request-id'], /./)
  }
})

test('a request the fast path does not read (chunked, Expect, HTTP/1.0) moves the connection to node\'s server, which answers it and the ones after', async () => {
  await serveWith(echo)
  const fast = 'GET /fn/f/first HTTP/1.1\r\nHost: x\r\n\r\n'
  const chunked = 'POST /fn/f/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
  const after = 'GET /fn/f/after HTTP/1.1\r\nHost: x\r\n\r\n'
  const { answers, socket } = await exchange([fast + chunked + after], 3)
  socket.destroy()
  assert.deepEqual(answers.map((a) => `${a.status} ${a.body}`), ['200 GET /first 0', '200 POST /chunked 3', '200 GET /after 0'])

  const expecting = await exchange(['POST /fn/f/expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', 'hi'], 2)
  expecting.socket.destroy()
  assert.deepEqual(expecting.answers.map((a) => `${a.status} ${a.body}`), ['100 ', '200 POST /expect 2'], 'node\'s server answers 100 first')

  const old = await exchange(['GET /fn/f/old HTTP/1.0\r\nHost: x\r\n\r\n'], 1)
  assert.deepEqual(old.answers.map((a) => `${a.status} ${a.body}`), ['200 GET /old 0'])
  assert.ok(old.closed, 'HTTP/1.0 without keep-alive: closed after the answer')
})

test('a head or a body split across writes is still answered, and so is the next request', async () => {
  await serveWith(echo)
  const { answers, socket } = await exchange(['GET /fn/f/split HT', 'TP/1.1\r\nHost: x\r\n\r\n'], 1)
  assert.deepEqual(answers.map((a) => a.body), ['GET /split 0'])
  const body = await exchange(['POST /fn/f/body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhe', 'llo', 'GET /fn/f/next HTTP/1.1\r\nHost: x\r\n\r\n'], 2)
  socket.destroy()
  body.socket.destroy()
  assert.deepEqual(body.answers.map((a) => a.body), ['POST /body 5', 'GET /next 0'])
})

test('a small body reaches the instance whole; one over the fast path\'s size streams through node\'s server', async () => {
  await serveWith(echo)
  const small = Buffer.alloc(1000, 'a')
  const large = Buffer.alloc(70 * 1024, 'b')
  const head = (length: number): string => `PUT /fn/f/up HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`
  const { answers, socket } = await exchange([Buffer.concat([Buffer.from(head(small.length)), small, Buffer.from(head(large.length)), large])], 2)
  socket.destroy()
  assert.deepEqual(answers.map((a) => a.body), ['PUT /up 1000', `PUT /up ${70 * 1024}`])
})

test('HEAD, 204 and 304 answers carry no body; the connection goes on', async () => {
  await serveWith(echo)
  const { answers, socket } = await exchange([
    'HEAD /fn/f/h HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /fn/f/status/204 HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /fn/f/status/304 HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /fn/f/last HTTP/1.1\r\nHost: x\r\n\r\n'
  ], 4, [0])
  socket.destroy()
  assert.deepEqual(answers.map((a) => `${a.status} ${a.body}`), ['200 ', '204 ', '304 ', '200 GET /last 0'])
  assert.equal(answers[1].headers['transfer-encoding'], undefined)
  assert.equal(answers[1].headers['content-length'], undefined)
})

test('a streamed response is chunked and its first bytes reach the caller before it ends', async () => {
  let finish = (): void => {}
  await serveWith((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: one\n\n')
    finish = () => res.end('data: two\n\n')
  })
  const socket = connect(port, '127.0.0.1')
  let seen = ''
  socket.on('data', (chunk: Buffer) => { seen += chunk.toString('latin1') })
  socket.write('GET /fn/f/stream HTTP/1.1\r\nHost: x\r\n\r\n')
  const deadline = Date.now() + 5000
  while (!seen.includes('data: one') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.match(seen, /transfer-encoding: chunked\r\n/)
  assert.match(seen, /\r\n\r\nb\r\ndata: one\n\n\r\n$/, 'the first event, as one chunk, before the end')
  finish()
  while (!seen.endsWith('0\r\n\r\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.match(seen, /b\r\ndata: two\n\n\r\n0\r\n\r\n$/)
  socket.destroy()
})

test('a response header that would split the response is refused: 502, and the caller\'s connection stays open', async () => {
  await serveWith((req, res) => {
    if (req.url === '/bad') res.writeHead(200, { 'x-evil': 'a\r\nset-cookie: stolen=1' })
    res.end('fine')
  })
  const { answers, closed, socket } = await exchange(['GET /fn/f/bad HTTP/1.1\r\nHost: x\r\n\r\n'], 1)
  socket.destroy()
  assert.equal(answers.length, 1)
  assert.equal(answers[0].status, 502)
  assert.equal(answers[0].headers['set-cookie'], undefined)
  assert.match(answers[0].body, /ROOST_E_INSTANCE_PROTOCOL/)
  assert.equal(closed, false, 'the caller\'s connection stays usable')
})

test('an instance that sends more or less than its Content-Length gets the caller\'s connection closed, never a stray response', async () => {
  await serveWith((req, res) => {
    res.writeHead(200, { 'content-length': 4 })
    res.end(req.url === '/more' ? 'fourHTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged' : 'two')
  })
  const more = await exchange(['GET /fn/f/more HTTP/1.1\r\nHost: x\r\n\r\n' + 'GET /fn/f/next HTTP/1.1\r\nHost: x\r\n\r\n'], 2)
  assert.ok(more.closed, 'closed')
  assert.ok(more.answers.every((a) => a.body !== 'forged'), 'no forged response')
  const less = await exchange(['GET /fn/f/less HTTP/1.1\r\nHost: x\r\n\r\n'], 1)
  assert.ok(less.closed, 'closed')
  assert.equal(less.answers.length, 0)
})

test('Connection: close is honoured: the answer says so and the connection ends after it', async () => {
  await serveWith(echo)
  const { answers, closed } = await exchange(['GET /fn/f/bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' + 'GET /fn/f/ignored HTTP/1.1\r\nHost: x\r\n\r\n'], 2)
  assert.deepEqual(answers.map((a) => a.body), ['GET /bye 0'])
  assert.equal(answers[0].headers.connection, 'close')
  assert.ok(closed)
})

test('the gateway\'s own endpoints and unknown routes answer on the fast path\'s connections too', async () => {
  await serveWith(echo)
  const { answers, socket } = await exchange(['GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n' + 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' + 'GET /fn/f/then HTTP/1.1\r\nHost: x\r\n\r\n'], 3)
  socket.destroy()
  assert.deepEqual(answers.map((a) => a.status), [404, 200, 200])
  assert.equal(answers[0].headers['content-type'], 'application/problem+json')
  assert.equal(answers[1].body, 'ok\n')
  assert.equal(answers[2].body, 'GET /then 0')
})
