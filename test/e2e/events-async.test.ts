// Async calls, the gateway's own endpoints and CloudEvents on a real `roost
// up` (issue 12, "Async invocations" and "CloudEvents"): a call answered 202
// with where its record is, the record read with the API and the CLI, a
// function's publish endpoint closed to anyone without a call token, and
// events in structured mode reaching the function in binary mode.
import { after, before, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { ok } from '../helpers/e2e.js'
import { expectProblem } from '../helpers/problems.js'

const WORK = `
export default async (req: Request) => {
  const url = new URL(req.url)
  console.log('working on ' + url.pathname + ' as ' + String(req.headers.get('x-roost-call-id')))
  const body = await req.text()
  if (url.pathname === '/fail') return new Response('broken', { status: 500 })
  // Held until the test lets it go: the only slot of the function stays taken meanwhile.
  if (url.pathname === '/hold') await fetch(body)
  const ce: Record<string, string> = {}
  req.headers.forEach((value, name) => { if (name.startsWith('ce-')) ce[name] = value })
  return Response.json({
    path: url.pathname + url.search,
    method: req.method,
    event: req.headers.get('x-roost-event'),
    callId: req.headers.get('x-roost-call-id'),
    contentType: req.headers.get('content-type'),
    ce,
    body
  }, { status: url.pathname === '/created' ? 201 : 200, headers: { 'x-made-by': 'work' } })
}
`

let platform: TestPlatform
let dir: string

interface Invocation {
  id: string
  function: string
  status: string
  attempts: number
  maxAttempts: number
  request: { method: string, path: string, callbackUrl: string | null } | null
  response: { status: number, headers: Record<string, string>, body: string } | null
  history: Array<{ counted: boolean, outcome: string, status: number | null }>
  logs: Array<{ message: string, requestId: string }>
}

interface Seen { path: string, method: string, event: string | null, callId: string | null, body: string }

async function invocation (location: string): Promise<Invocation> {
  return await (await platform.api(location)).json() as Invocation
}

/** Polls the record until it is final (no timing asserted: the deadline only bounds a hang). */
async function finished (location: string): Promise<Invocation> {
  let record = await invocation(location)
  await waitFor(async () => {
    record = await invocation(location)
    return ['succeeded', 'failed', 'expired', 'cancelled'].includes(record.status)
  }, 60_000, () => `${location} is still ${record.status}`)
  return record
}

/** A loopback server of the test: it records what it is sent and answers as told. */
async function loopback (t: TestContext, handle: (res: ServerResponse) => void = (res) => res.end()): Promise<{ url: string, received: Array<{ url: string, headers: IncomingHttpHeaders, body: string }> }> {
  const received: Array<{ url: string, headers: IncomingHttpHeaders, body: string }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() })
      handle(res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received }
}

before(async () => {
  platform = await TestPlatform.start({ args: ['--allow-private-callbacks'] }) // the callback receivers are on loopback
  dir = writeProject({
    'work.ts': WORK,
    'roost.yaml': manifest('work', 'source: ./work.ts\nhttp:\n  path: /work'),
    // One instance with one slot: a second call waits in the queue while the first is held.
    'single.yaml': manifest('single', 'source: ./work.ts\nconcurrency: 1\nscale:\n  max: 1')
  })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]), 'apply')
  ok(await platform.cli(['apply', '-f', join(dir, 'single.yaml')]), 'apply')
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('an async call is answered 202 with Location and X-Call-Id; its record is on the API and in roost invocations', async () => {
  const response = await platform.fetch('/async/fn/work/orders?n=1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"order":1}' })
  assert.equal(response.status, 202, await response.clone().text())
  const id = response.headers.get('x-call-id') as string
  assert.match(id, /^[0-9a-f-]{36}$/)
  const location = response.headers.get('location') as string
  assert.equal(location, `/apis/roost.dev/v1/namespaces/default/invocations/${id}`)
  const accepted = await response.json() as { id: string, status: string }
  assert.equal(accepted.id, id)

  const record = await (await platform.api(location)).json() as Invocation
  assert.deepEqual([record.id, record.function, record.maxAttempts], [id, 'work', 3])
  assert.deepEqual(record.request, { method: 'POST', path: '/orders?n=1', callbackUrl: null, caller: null, requestId: response.headers.get('x-request-id'), bodyBytes: 11 })

  const listed = ok(await platform.cli(['invocations', 'list', 'work']), 'invocations list')
  assert.match(listed, /^ID\s+FUNCTION\s+STATUS\s+ATTEMPTS\s+CODE\s+AGE$/m)
  assert.match(listed, new RegExp(`^${id}\\s+work\\s+`, 'm'))
  const described = ok(await platform.cli(['invocations', 'get', id]), 'invocations get')
  assert.match(described, new RegExp(`^Id:\\s+${id}$`, 'm'))
  assert.match(described, /^Request:\s+POST \/orders\?n=1 \(11 bytes\)$/m)
  const asJson = JSON.parse(ok(await platform.cli(['invocations', 'get', id, '-o', 'json']), 'invocations get -o json')) as Invocation
  assert.equal(asJson.id, id)
})

test('an async call by the function\'s own path, and refusals: unknown function 404, GET 405, bad callback URL 422', async () => {
  const byPath = await platform.fetch('/async/work/x', { method: 'PUT', body: 'x' })
  assert.equal(byPath.status, 202)
  const record = await (await platform.api(byPath.headers.get('location') as string)).json() as Invocation
  assert.deepEqual([record.function, record.request?.method, record.request?.path], ['work', 'PUT', '/x'])
  await expectProblem(await platform.fetch('/async/fn/nobody', { method: 'POST', body: 'x' }), 404, 'ROOST_E_ROUTE_NOT_FOUND')
  await expectProblem(await platform.fetch('/async/fn/work'), 405, 'ROOST_E_BAD_REQUEST')
  const bad = await expectProblem(await platform.fetch('/async/fn/work', { method: 'POST', body: 'x', headers: { 'x-callback-url': 'not a url' } }), 422, 'ROOST_E_VALIDATION')
  assert.equal(bad.field, 'x-callback-url')
})

test('an unknown invocation is 404 on the API and an error with a hint in the CLI', async () => {
  await expectProblem(await platform.api('/apis/roost.dev/v1/namespaces/default/invocations/no-such-call'), 404, 'ROOST_E_NOT_FOUND')
  const result = await platform.cli(['invocations', 'get', 'no-such-call'])
  assert.equal(result.code, 1)
  assert.match(result.stderr, /^error: invocation no-such-call not found in namespace default$/m)
  assert.match(result.stderr, /^hint: /m)
})

test('/_roost/queues/Q/messages without a call token is 401, and never reaches a function', async () => {
  const response = await platform.fetch('/_roost/queues/orders/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages":[{"body":1}]}' })
  await expectProblem(response, 401, 'ROOST_E_UNAUTHORIZED')
  assert.equal(response.headers.get('www-authenticate'), 'Roost-Call realm="roost"')
})

test('a structured CloudEvent reaches the function in binary mode; an invalid one is refused 400 naming the attribute', async () => {
  const event = { specversion: '1.0', id: 'evt-1', source: '/shop', type: 'dev.shop.order', datacontenttype: 'application/json', data: { order: 2 } }
  const response = await platform.fetch('/work/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) })
  assert.equal(response.status, 200)
  const seen = await response.json() as { ce: Record<string, string>, contentType: string, body: string }
  assert.deepEqual(seen.ce, { 'ce-id': 'evt-1', 'ce-source': '/shop', 'ce-specversion': '1.0', 'ce-type': 'dev.shop.order' })
  assert.equal(seen.contentType, 'application/json')
  assert.equal(seen.body, '{"order":2}')

  const binary = await (await platform.fetch('/work/events', { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'evt-2', 'ce-source': '/s', 'ce-type': 't', 'content-type': 'text/plain' }, body: 'hello' })).json() as { ce: Record<string, string>, body: string }
  assert.equal(binary.ce['ce-id'], 'evt-2')
  assert.equal(binary.body, 'hello')

  const invalid = await expectProblem(await platform.fetch('/work/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ specversion: '1.0', id: 'x', source: '/s' }) }), 400, 'ROOST_E_INVALID_CLOUD_EVENT')
  assert.equal(invalid.field, 'type')
})

test('an async call runs: its record reaches succeeded with the function\'s response, and the logs of its attempt', async () => {
  const response = await platform.fetch('/async/fn/work/created', { method: 'POST', body: 'the order' })
  assert.equal(response.status, 202)
  const id = response.headers.get('x-call-id') as string
  const record = await finished(response.headers.get('location') as string)
  assert.deepEqual([record.status, record.attempts, record.response?.status, record.response?.headers['x-made-by']], ['succeeded', 1, 201, 'work'])
  const seen = JSON.parse(record.response?.body ?? '') as Seen
  assert.deepEqual([seen.path, seen.method, seen.event, seen.callId, seen.body], ['/created', 'POST', 'invocation', id, 'the order'])
  await waitFor(async () => (await invocation(`/apis/roost.dev/v1/namespaces/default/invocations/${id}`)).logs.length > 0, 10_000, () => 'the attempt\'s log line')
  const { logs } = await invocation(`/apis/roost.dev/v1/namespaces/default/invocations/${id}`)
  assert.deepEqual(logs.map((l) => [l.message, l.requestId]), [[`working on /created as ${id}`, id]])
  const described = ok(await platform.cli(['invocations', 'get', id]), 'invocations get')
  assert.match(described, /^Status:\s+succeeded$/m)
  assert.match(described, /^Response:\s+201$/m)
  assert.match(described, new RegExp(`working on /created as ${id}`))
})

test('?wait= answers with the function\'s own response when it comes in time', async () => {
  const response = await platform.fetch('/async/fn/work/created?wait=30s', { method: 'POST', body: 'now please' })
  assert.equal(response.status, 201)
  assert.equal(response.headers.get('x-made-by'), 'work')
  const id = response.headers.get('x-call-id') as string
  assert.equal(response.headers.get('location'), `/apis/roost.dev/v1/namespaces/default/invocations/${id}`)
  const seen = await response.json() as Seen
  assert.deepEqual([seen.path, seen.event, seen.callId, seen.body], ['/created', 'invocation', id, 'now please'])
  const preferred = await platform.fetch('/async/fn/work/p', { method: 'POST', headers: { prefer: 'wait=30' }, body: '' })
  assert.equal(preferred.status, 200)
})

test('X-Callback-Url receives the final result: the call id, status, response and attempts', async (t) => {
  const receiver = await loopback(t)
  const response = await platform.fetch('/async/fn/work/called-back', { method: 'POST', headers: { 'x-callback-url': `${receiver.url}/results?from=roost` }, body: 'tell me' })
  assert.equal(response.status, 202)
  const id = response.headers.get('x-call-id') as string
  await waitFor(() => receiver.received.length > 0, 60_000, () => 'the callback')
  const [callback] = receiver.received
  assert.equal(callback?.url, '/results?from=roost')
  assert.equal(callback?.headers['content-type'], 'application/json')
  assert.equal(callback?.headers['ce-type'], 'dev.roost.async.succeeded')
  const result = JSON.parse(callback?.body ?? '') as { callId: string, status: string, statusCode: number, attempts: number, body: string, headers: Record<string, string> }
  assert.deepEqual([result.callId, result.status, result.statusCode, result.attempts, result.headers['x-made-by']], [id, 'succeeded', 200, 1, 'work'])
  assert.equal((JSON.parse(result.body) as Seen).body, 'tell me')
})

test('a function answering 500 is tried three times (two retries), then the invocation is failed', async () => {
  const response = await platform.fetch('/async/fn/work/fail?wait=60s', { method: 'POST', body: '' })
  const problem = await expectProblem(response, 502, 'ROOST_E_INVOCATION_FAILED')
  assert.match(problem.detail, /failed after 3 attempts \(last status 500\)/)
  const record = await invocation(response.headers.get('location') as string)
  assert.deepEqual([record.status, record.attempts], ['failed', 3])
  assert.deepEqual(record.history.filter((a) => a.counted).map((a) => a.status), [500, 500, 500])
})

test('cancel stops an invocation that has not started; one that has finished is 409', async (t) => {
  let release: (() => void) | undefined
  const hold = await loopback(t, (res) => { release = () => res.end() })
  const first = await platform.fetch('/async/fn/single/hold', { method: 'POST', body: `${hold.url}/hold` })
  assert.equal(first.status, 202)
  // The only slot is taken once the first call reaches the hold.
  await waitFor(() => hold.received.length === 1, 60_000, () => 'the first call holding the slot')
  const second = await platform.fetch('/async/fn/single/second', { method: 'POST', body: '' })
  const id = second.headers.get('x-call-id') as string
  assert.match(ok(await platform.cli(['invocations', 'cancel', id]), 'invocations cancel'), new RegExp(`^invocation/${id} cancelled$`, 'm'))
  ;(release as () => void)()
  const held = await finished(first.headers.get('location') as string)
  assert.equal(held.status, 'succeeded')
  const cancelled = await invocation(second.headers.get('location') as string)
  assert.deepEqual([cancelled.status, cancelled.attempts, cancelled.history.length], ['cancelled', 0, 0])
  const again = await platform.cli(['invocations', 'cancel', id])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /^error: invocation .* is cancelled: only one that has not started can be cancelled$/m)
  const done = await platform.cli(['invocations', 'cancel', held.id])
  assert.match(done.stderr, /is succeeded: only one that has not started/)
})
