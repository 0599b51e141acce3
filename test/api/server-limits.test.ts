// The API under slow and abusive clients, with real sockets: deadlines for
// headers and bodies, caps on connections in total and per client address.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { createApiServer, type ApiServerOptions } from '../../src/api/index.js'
import { Store } from '../../src/store/index.js'

const V1 = '/apis/roost.dev/v1'

interface Api {
  token: string
  store: Store
  /** A client connection from `from` (any 127/8 address is this machine); destroyed when the test ends. */
  open: (from?: string) => Promise<Client>
}

// The platform's live view is a peer of the API: faked, as it has nothing to say here.
const live: ApiServerOptions['live'] = {
  instances: () => [],
  serving: () => undefined,
  scaling: () => undefined,
  metrics: async () => '',
  onLogs: () => () => {}
}

async function startApi (t: TestContext, options: Pick<ApiServerOptions, 'connections' | 'timeouts'>): Promise<Api> {
  const dir = mkdtempSync(join(tmpdir(), 'roost-api-limits-'))
  const store = Store.open(dir)
  const { token } = store.createToken({ namespace: '*' })
  const app = await createApiServer({ store, live, ...options })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const sockets = new Set<Socket>()
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    await app.close()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const address = app.server.address()
  assert.ok(address !== null && typeof address === 'object')
  return { token, store, open: async (from) => await open(address.port, sockets, from) }
}

/** A client connection with everything it received. */
interface Client {
  socket: Socket
  received: () => string
  closed: Promise<void>
}

async function open (port: number, sockets: Set<Socket>, from = '127.0.0.1'): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from })
  sockets.add(socket)
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { received += chunk })
  socket.on('error', () => {}) // a reset after the server cut us off is expected
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return { socket, received: () => received, closed }
}

/** Sends one request and waits for its whole response (by Content-Length). */
async function exchange (client: Client, request: string): Promise<{ status: number, headers: string, body: string }> {
  const start = client.received().length
  client.socket.write(request)
  return await withDeadline(10_000, 'no response', async () => {
    for (;;) {
      const text = client.received().slice(start)
      const response = parseResponse(text)
      if (response !== undefined) return response
      await Promise.race([new Promise((resolve) => client.socket.once('data', resolve)), client.closed])
      if (client.socket.destroyed && parseResponse(client.received().slice(start)) === undefined) throw new Error(`closed before a whole response: ${client.received().slice(start)}`)
    }
  })
}

function parseResponse (text: string): { status: number, headers: string, body: string } | undefined {
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  const headers = text.slice(0, end)
  const length = Number(/content-length: *(\d+)/i.exec(headers)?.[1] ?? 0)
  const body = text.slice(end + 4)
  if (Buffer.byteLength(body) < length) return undefined
  return { status: Number(headers.split(' ')[1]), headers, body: body.slice(0, length) }
}

function get (path: string, token?: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: api\r\n${token === undefined ? '' : `Authorization: Bearer ${token}\r\n`}\r\n`
}

async function withDeadline<T> (ms: number, what: string, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms) })
  try {
    return await Promise.race([run(), deadline])
  } finally {
    clearTimeout(timer)
  }
}

function problemOf (response: { headers: string, body: string }): { code: string, status: number, detail: string, hint?: string } {
  assert.match(response.headers, /content-type: application\/problem\+json/i)
  return JSON.parse(response.body) as { code: string, status: number, detail: string, hint?: string }
}

test('50 connections trickling a body are cut at the request deadline with a 408, while the admin\'s request answers', async (t) => {
  const api = await startApi(t, { timeouts: { headersMs: 1_000, requestMs: 2_000, checkEveryMs: 100 } })
  const length = 10_000
  const slow = await Promise.all(Array.from({ length: 50 }, async () => await api.open()))
  let sent = 0
  for (const client of slow) {
    client.socket.write(`PUT ${V1}/namespaces/default/functions/slow HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${api.token}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{`)
  }
  // one byte every 100 ms per connection: never idle, never done
  const trickle = setInterval(() => {
    sent++
    for (const client of slow) if (!client.socket.destroyed) client.socket.write(' ')
  }, 100)
  t.after(() => clearInterval(trickle))

  await new Promise((resolve) => setTimeout(resolve, 300))
  const admin = await api.open()
  const answer = await exchange(admin, get(`${V1}/functions`, api.token))
  assert.equal(answer.status, 200, answer.body)
  assert.deepEqual(JSON.parse(answer.body), { items: [] })
  assert.equal(slow.filter((c) => c.socket.destroyed).length, 0, 'the slow connections were still open when the admin was answered')

  await withDeadline(15_000, 'the slow connections were not cut', async () => { await Promise.all(slow.map(async (c) => await c.closed)) })
  clearInterval(trickle)
  assert.ok(sent < length, 'cut before the body was complete')
  for (const client of slow) {
    const response = parseResponse(client.received())
    assert.ok(response !== undefined, `a slow client got no answer: ${JSON.stringify(client.received())}`)
    assert.equal(response.status, 408)
    const problem = problemOf(response)
    assert.equal(problem.code, 'ROOST_E_REQUEST_TIMEOUT')
    assert.match(problem.detail, /within 2000 ms/)
  }
  assert.equal(api.store.getResource('Function', 'default', 'slow'), undefined)
  // and the API still serves
  const after = await exchange(await api.open(), get('/healthz'))
  assert.equal(after.status, 200)
})

test('headers trickled a byte at a time are cut at the headers deadline, long before the request deadline', async (t) => {
  const api = await startApi(t, { timeouts: { headersMs: 1_000, requestMs: 60_000, checkEveryMs: 100 } })
  const client = await api.open()
  client.socket.write('GET /healthz HTTP/1.1\r\nHost: api\r\nX-Slow: ')
  const trickle = setInterval(() => { if (!client.socket.destroyed) client.socket.write('a') }, 100)
  t.after(() => clearInterval(trickle))
  await withDeadline(10_000, 'slow headers were not cut', async () => { await client.closed })
  const response = parseResponse(client.received())
  assert.equal(response?.status, 408, client.received())
  assert.equal(problemOf(response).code, 'ROOST_E_REQUEST_TIMEOUT')
})

test('a connection that sends nothing is closed at the headers deadline', async (t) => {
  const api = await startApi(t, { timeouts: { headersMs: 1_000, requestMs: 60_000, checkEveryMs: 100 } })
  const client = await api.open()
  await withDeadline(10_000, 'a silent connection stayed open', async () => { await client.closed })
})

test('over the cap per client address: 503, Retry-After and problem+json on the socket; other addresses still get in', async (t) => {
  const api = await startApi(t, { connections: { total: 100, perAddress: 5, retryAfterSeconds: 3 }, timeouts: { keepAliveMs: 60_000 } })
  // five keep-alive connections of one client, each answered, so each is surely counted
  const held = []
  for (let i = 0; i < 5; i++) {
    const client = await api.open('127.0.0.2')
    assert.equal((await exchange(client, get('/healthz'))).status, 200)
    held.push(client)
  }
  const refused = await api.open('127.0.0.2')
  await withDeadline(10_000, 'the refused connection was not closed', async () => { await refused.closed })
  const response = parseResponse(refused.received())
  assert.ok(response !== undefined, refused.received())
  assert.equal(response.status, 503)
  assert.match(response.headers, /retry-after: 3/i)
  const problem = problemOf(response)
  assert.equal(problem.code, 'ROOST_E_TOO_MANY_CONNECTIONS')
  assert.match(problem.detail, /127\.0\.0\.2 has 5 connections open/)
  assert.ok(problem.hint !== undefined)

  // the admin, from another address, is answered while that client is at its cap
  const admin = await api.open('127.0.0.1')
  assert.equal((await exchange(admin, get(`${V1}/functions`, api.token))).status, 200)

  // one of the five goes: the client may open one again
  held[0].socket.destroy()
  await held[0].closed
  await withDeadline(10_000, 'no connection admitted after one closed', async () => {
    for (;;) {
      const again = await api.open('127.0.0.2')
      const answer = await exchange(again, get('/healthz'))
      if (answer.status === 200) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })
})

test('over the cap in total: 503 for a new client address too', async (t) => {
  const api = await startApi(t, { connections: { total: 3, perAddress: 3 }, timeouts: { keepAliveMs: 60_000 } })
  for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
    assert.equal((await exchange(await api.open(from), get('/healthz'))).status, 200)
  }
  const refused = await api.open('127.0.0.5')
  await withDeadline(10_000, 'the refused connection was not closed', async () => { await refused.closed })
  const response = parseResponse(refused.received())
  assert.equal(response?.status, 503, refused.received())
  assert.match(problemOf(response).detail, /the API has 3 connections open, its cap/)
})

test('the request of a refused connection never reaches a route', async (t) => {
  const api = await startApi(t, { connections: { total: 100, perAddress: 1 }, timeouts: { keepAliveMs: 60_000 } })
  const { token: teamToken } = api.store.createToken({ namespace: 'team-a' })
  assert.equal((await exchange(await api.open('127.0.0.2'), get('/healthz'))).status, 200)
  const body = JSON.stringify({ manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'sneaked-in', namespace: 'team-a' }, spec: { source: { inline: 'export default () => new Response("x")' } } } })
  const refused = await api.open('127.0.0.2')
  refused.socket.write(`PUT ${V1}/namespaces/team-a/functions/sneaked-in HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${teamToken}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  await withDeadline(10_000, 'the refused connection was not closed', async () => { await refused.closed })
  assert.equal(parseResponse(refused.received())?.status, 503, refused.received())
  assert.equal(api.store.getResource('Function', 'team-a', 'sneaked-in'), undefined, 'a refused connection applied a function')

  // the same request on an admitted connection is applied: the refusal above was the cap's doing
  const admitted = await api.open('127.0.0.3')
  const answer = await exchange(admitted, `PUT ${V1}/namespaces/team-a/functions/sneaked-in HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${teamToken}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  assert.equal(answer.status, 201, answer.body)
})

test('over the caps, a connection that brings the admin token in its first bytes still comes in; others do not', async (t) => {
  const api = await startApi(t, { connections: { total: 100, perAddress: 2 }, timeouts: { keepAliveMs: 60_000 } })
  const { token: teamToken } = api.store.createToken({ namespace: 'team-a' })
  for (let i = 0; i < 2; i++) assert.equal((await exchange(await api.open('127.0.0.2'), get('/healthz'))).status, 200)

  const admin = await api.open('127.0.0.2')
  const first = await exchange(admin, get(`${V1}/functions`, api.token))
  assert.equal(first.status, 200, first.body)
  // the connection serves on: keep-alive, a second request
  assert.equal((await exchange(admin, get(`${V1}/route-reservations`, api.token))).status, 200)

  const tenant = await api.open('127.0.0.2')
  tenant.socket.write(get(`${V1}/functions`, teamToken))
  await withDeadline(10_000, 'the tenant\'s connection was not closed', async () => { await tenant.closed })
  assert.equal(parseResponse(tenant.received())?.status, 503, tenant.received())

  const silent = await api.open('127.0.0.2')
  await withDeadline(10_000, 'a silent connection over the cap stayed open', async () => { await silent.closed })
  assert.equal(parseResponse(silent.received())?.status, 503, silent.received())
})

test('what node\'s parser refuses is answered with problem+json too: headers too large (431), bytes that are not HTTP (400)', async (t) => {
  const api = await startApi(t, {})
  const large = await api.open()
  large.socket.write(`GET /healthz HTTP/1.1\r\nHost: api\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  await withDeadline(10_000, 'the connection was not closed', async () => { await large.closed })
  const tooLarge = parseResponse(large.received())
  assert.equal(tooLarge?.status, 431, large.received())
  assert.equal(problemOf(tooLarge).code, 'ROOST_E_HEADERS_TOO_LARGE')

  const garbage = await api.open()
  garbage.socket.write('\x00\x01 not http at all\r\n\r\n')
  await withDeadline(10_000, 'the connection was not closed', async () => { await garbage.closed })
  const bad = parseResponse(garbage.received())
  assert.equal(bad?.status, 400, garbage.received())
  assert.equal(problemOf(bad).code, 'ROOST_E_BAD_REQUEST')
})
