// Slow and abusive clients: connections that trickle their headers or body
// are cut at their deadline, caps answer 503 instead of dropping silently,
// and a normal caller of the gateway and of the API is served meanwhile.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { portOf } from '../helpers/e2e.js'

let platform: TestPlatform
let project: string

before(async () => {
  platform = await TestPlatform.start()
  project = writeProject({
    'echo.js': 'export default async (req) => new Response("got " + (await req.text()).length)\n',
    'roost.yaml': manifest('echo', 'source: ./echo.js\ntimeout: 2s\nscale: { min: 1, max: 1 }')
  })
  const applied = await platform.cli(['apply', '-f', join(project, 'roost.yaml'), '--wait'])
  assert.equal(applied.code, 0, applied.stderr)
})

after(async () => {
  await platform?.stop()
  if (project !== undefined) rmSync(project, { recursive: true, force: true })
})

interface Trickler {
  socket: Socket
  received: string
  closed: Promise<void>
}

/** Opens a connection that sends `head` and then one byte of `drip` every `everyMs`. */
function trickle (port: number, head: string, drip: string, everyMs: number): Trickler {
  const socket = connect(port, '127.0.0.1')
  const trickler: Trickler = { socket, received: '', closed: new Promise((resolve) => socket.once('close', () => resolve())) }
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => { trickler.received += chunk.toString('latin1') })
  socket.once('connect', () => {
    socket.write(head)
    let at = 0
    const timer = setInterval(() => {
      if (socket.destroyed || at >= drip.length) {
        clearInterval(timer)
        return
      }
      socket.write(drip[at++])
    }, everyMs)
    socket.once('close', () => clearInterval(timer))
  })
  return trickler
}

test('bodies that trickle in are cut at the request deadline while normal callers are served', async () => {
  const port = portOf(platform.config.gateway)
  const body = 'x'.repeat(1000)
  const slow = Array.from({ length: 100 }, () => trickle(port, `POST /fn/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`, body, 500))
  try {
    const response = await platform.fetch('/fn/echo', { method: 'POST', body: 'hello' })
    assert.equal(response.status, 200)
    assert.equal(await response.text(), 'got 5')
    const api = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/echo')
    assert.equal(api.status, 200, 'the API answers the admin')
    // The function's timeout is 2 s from arrival: every slow body is cut by then (with margin).
    await waitFor(() => slow.every((s) => s.socket.destroyed), 10_000, () => `${slow.filter((s) => !s.socket.destroyed).length} slow connections still open`)
    const answered = slow.filter((s) => /^HTTP\/1\.1 (408|504)/.test(s.received)).length
    assert.ok(answered > 0, `the slow callers are told why: ${slow[0].received.slice(0, 200)}`)
  } finally {
    for (const s of slow) s.socket.destroy()
  }
})

test('headers that trickle in are cut at the headers timeout', async () => {
  const port = portOf(platform.config.gateway)
  const slow = Array.from({ length: 50 }, () => trickle(port, 'GET /fn/echo HTTP/1.1\r\n', 'X-Slow: ' + 'y'.repeat(200), 1000))
  try {
    const response = await platform.fetch('/fn/echo')
    assert.equal(response.status, 200)
    await waitFor(() => slow.every((s) => s.socket.destroyed), 30_000, () => `${slow.filter((s) => !s.socket.destroyed).length} connections with unfinished headers still open`)
  } finally {
    for (const s of slow) s.socket.destroy()
  }
})

test('connections over the per-client cap get 503 with Retry-After, not silence', async () => {
  const port = portOf(platform.config.gateway)
  const sockets: Trickler[] = []
  try {
    for (let i = 0; i < 400; i++) sockets.push(trickle(port, 'GET /fn/echo HTTP/1.1\r\n', 'X', 60_000))
    await waitFor(() => sockets.some((s) => s.received.startsWith('HTTP/1.1 503')), 10_000, () => 'no connection over the cap was answered 503')
    const refused = sockets.find((s) => s.received.startsWith('HTTP/1.1 503')) as Trickler
    await refused.closed
    assert.match(refused.received, /retry-after: \d+/i)
    assert.match(refused.received, /application\/problem\+json/)
    const api = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/echo')
    assert.equal(api.status, 200, 'the API answers the admin while the gateway is at its cap')
  } finally {
    for (const s of sockets) s.socket.destroy()
  }
})
