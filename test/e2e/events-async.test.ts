// Async calls, the gateway's own endpoints and CloudEvents on a real `roost
// up` (issue 12, "Async invocations" and "CloudEvents"): a call answered 202
// with where its record is, the record read with the API and the CLI, a
// function's publish endpoint closed to anyone without a call token, and
// events in structured mode reaching the function in binary mode.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, writeProject } from '../helpers/platform.js'
import { ok } from '../helpers/e2e.js'
import { expectProblem } from '../helpers/problems.js'

const WORK = `
export default async (req: Request) => {
  const url = new URL(req.url)
  if (url.pathname === '/fail') return new Response('broken', { status: 500 })
  const ce: Record<string, string> = {}
  req.headers.forEach((value, name) => { if (name.startsWith('ce-')) ce[name] = value })
  return Response.json({
    path: url.pathname + url.search,
    method: req.method,
    event: req.headers.get('x-roost-event'),
    callId: req.headers.get('x-roost-call-id'),
    contentType: req.headers.get('content-type'),
    ce,
    body: await req.text()
  }, { status: url.pathname === '/created' ? 201 : 200, headers: { 'x-made-by': 'work' } })
}
`

let platform: TestPlatform
let dir: string

interface Invocation { id: string, function: string, status: string, attempts: number, maxAttempts: number, request: { method: string, path: string, callbackUrl: string | null } | null }

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'work.ts': WORK, 'roost.yaml': manifest('work', 'source: ./work.ts\nhttp:\n  path: /work') })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]), 'apply')
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
