import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { MessageChannel } from 'node:worker_threads'
import { Gateway } from '../../src/gateway/index.js'
import { DeliveryChannel, type ChannelAnswer } from '../../src/gateway/delivery-channel.js'
import { DeliveryPort } from '../../src/gateway/delivery-port.js'
import type { ControlAnswer, RoutingTable } from '../../src/gateway/index.js'
import type { GatewayReport } from '../../src/gateway/routing-table.js'
import { GOVERNANCE_DEFAULTS, PlatformCallKey, type FunctionPolicy } from '../../src/governance/index.js'
import { FakeInstance } from './fake-instance.js'

// The gateway's side of events (docs/event-delivery.md): which requests are
// event deliveries and what they pass on, the platform's own /_roost/
// endpoint for publishing, async calls handed to the control plane, and
// CloudEvents in binary and structured mode reaching functions in one shape.

const TOKEN = 'e7'.repeat(32)
const callKey = PlatformCallKey.generate()
const reports: GatewayReport[] = []
/** What the fake control plane answers a publish or an async call with. */
let answerWith: (report: GatewayReport) => ControlAnswer = () => ({ status: 500 })
const gateway: Gateway = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, asyncBodyLimit: 4096, callKey: callKey.bytes(), eventToken: TOKEN }, (report) => {
  reports.push(report)
  if (report.t === 'publish' || report.t === 'invoke-async') {
    const answer = answerWith(report)
    setImmediate(() => gateway.controlAnswered(report.id, answer))
  }
})
let base = ''
let instance: FakeInstance
// The control plane's way in for deliveries, as GatewayHandle makes it for the worker.
const { port1, port2 } = new MessageChannel()
const deliveryPort = new DeliveryPort(port2, gateway)
const channel = new DeliveryChannel(port1, '127.0.0.1:8080')

interface Seen { method: string, url: string, headers: Record<string, string>, body: string, requestId: string }

const privatePolicy: FunctionPolicy = { rules: [], retry: GOVERNANCE_DEFAULTS.retry, lanes: [], auth: { mode: 'private', namespace: 'default' } }

function table (): RoutingTable {
  const fn = (name: string, paths: string[], governance?: FunctionPolicy): RoutingTable['functions'][number] => ({
    key: `default/${name}`,
    namespace: 'default',
    name,
    paths,
    versions: [{ key: `default/${name}@1`, version: 1, timeoutMs: 5000, concurrency: 10, queueLimit: 100 }],
    traffic: [{ version: 1, percent: 100 }],
    governance
  })
  return {
    revision: 1,
    // A table is not checked as the API checks manifests: `/_roost` here shows the gateway keeps its prefix whatever the routes say.
    functions: [fn('echo', ['/echo']), fn('private', [], privatePolicy), fn('squatter', ['/_roost', '/async'])],
    instances: ['echo', 'private', 'squatter'].map((name) => ({ id: `${name}-1`, versionKey: `default/${name}@1`, socketPath: instance.socketPath, secret: instance.secret, state: 'ready' as const }))
  }
}

before(async () => {
  instance = await FakeInstance.start((req, res) => {
    void req.body().then((body) => res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8'), requestId: req.head.requestId })))
  })
  base = `http://127.0.0.1:${(await gateway.listen()).port}`
  gateway.applyTable(table())
})

after(async () => {
  channel.close('the test ended')
  deliveryPort.close()
  await gateway.close()
  await instance.close()
})

beforeEach(() => {
  reports.length = 0
  instance.requests.length = 0
})

function handedOver (): GatewayReport[] {
  return reports.filter((r) => r.t === 'publish' || r.t === 'invoke-async')
}

async function problemOf (response: Response): Promise<{ code: string, detail: string, field?: string, errors?: Array<{ field: string }> }> {
  assert.equal(response.headers.get('content-type'), 'application/problem+json')
  return await response.json() as { code: string, detail: string, field?: string }
}

// ---- event deliveries

/** A delivery on the channel, as the dispatcher makes one. */
async function deliver (path: string, headers: Array<[string, string]>, body = ''): Promise<{ status: number, seen: Seen }> {
  const answer: ChannelAnswer = await channel.deliver({ method: 'POST', path, headers, body, timeoutMs: 5000 }, new AbortController().signal)
  assert.equal(answer.kind, 'answered')
  const { status, body: bytes } = answer as Extract<ChannelAnswer, { kind: 'answered' }>
  return { status, seen: JSON.parse(bytes.toString('utf8')) as Seen }
}

test('a delivery with the event token passes x-roost-event, x-roost-call-id and its caller on, never the token; the call id is its request id', async () => {
  const { status, seen } = await deliver('/fn/echo/deliver', [
    ['X-Roost-Event-Token', TOKEN], ['x-roost-event', 'queue'], ['x-roost-call-id', 'call-123'], ['x-roost-caller', 'key:abc'], ['x-request-id', 'ignored-1']
  ], '{"queue":"orders","messages":[]}')
  assert.equal(status, 200)
  assert.equal(seen.headers['x-roost-event'], 'queue')
  assert.equal(seen.headers['x-roost-call-id'], 'call-123')
  assert.equal(seen.headers['x-roost-caller'], 'key:abc')
  assert.equal(seen.headers['x-roost-event-token'], undefined)
  assert.equal(seen.requestId, 'call-123')
  assert.equal(seen.headers['x-request-id'], 'call-123')
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1')
  assert.equal(seen.headers['x-forwarded-host'], '127.0.0.1:8080')
  assert.equal(seen.body, '{"queue":"orders","messages":[]}')
})

test('a delivery skips the function\'s caller check: a private function takes it without a call token', async () => {
  const refused = await fetch(`${base}/fn/private`, { method: 'POST', body: 'x' })
  assert.equal(refused.status, 401)
  const delivered = await deliver('/fn/private', [['x-roost-event-token', TOKEN], ['x-roost-event', 'invocation']], 'x')
  assert.equal(delivered.status, 200)
  assert.equal(delivered.seen.headers['x-roost-event'], 'invocation')
})

test('without the right token every event header is stripped and the caller check applies; on the gateway\'s port even the right token is not honoured', async () => {
  const wrong = 'e7'.repeat(31) + 'e8'
  for (const token of [wrong, TOKEN.slice(1), undefined, TOKEN]) {
    const headers: Record<string, string> = { 'x-roost-event': 'queue', 'x-roost-call-id': 'forged', 'x-roost-caller': 'key:forged' }
    if (token !== undefined) headers['x-roost-event-token'] = token
    const seen = await (await fetch(`${base}/fn/echo`, { headers })).json() as Seen
    for (const name of ['x-roost-event', 'x-roost-call-id', 'x-roost-event-token', 'x-roost-caller']) assert.equal(seen.headers[name], undefined, `${name} with token ${String(token)}`)
    assert.notEqual(seen.requestId, 'forged')
    const privateCall = await fetch(`${base}/fn/private`, { headers })
    assert.equal(privateCall.status, 401, `a private function with token ${String(token)}`)
  }
})

test('a delivery on the channel without the run\'s token is refused 403 and reaches no function', async () => {
  for (const headers of [[['x-roost-event', 'queue']], [['x-roost-event-token', 'e7'.repeat(31) + 'e8'], ['x-roost-event', 'queue']]] as Array<Array<[string, string]>>) {
    const answer = await channel.deliver({ method: 'POST', path: '/fn/echo', headers, body: '{}', timeoutMs: 5000 }, new AbortController().signal)
    assert.equal(answer.kind === 'answered' && answer.status, 403)
    assert.equal(answer.kind === 'answered' && (JSON.parse(answer.body.toString('utf8')) as { code: string }).code, 'ROOST_E_FORBIDDEN')
  }
  assert.equal(instance.requests.length, 0)
})

test('a delivery may pass its deadline on (its lease\'s end); anyone else\'s x-roost-deadline is ignored', async () => {
  const soon = Date.now() + 2000
  const delivered = await deliver('/fn/echo', [['x-roost-event-token', TOKEN], ['x-roost-event', 'queue'], ['x-roost-deadline', String(soon)]])
  assert.equal(instance.requests.at(-1)?.head.deadline, soon)
  assert.equal(delivered.seen.headers['x-roost-deadline'], undefined)
  await fetch(`${base}/fn/echo`, { headers: { 'x-roost-deadline': String(soon) } })
  assert.ok((instance.requests.at(-1)?.head.deadline ?? 0) > soon, 'the function\'s own timeout (5 s) holds')
})

test('an ordinary request keeps its Authorization and Cache-Control headers (same length as x-roost-event)', async () => {
  const seen = await (await fetch(`${base}/fn/echo`, { headers: { authorization: 'Bearer abc', 'cache-control': 'no-cache' } })).json() as Seen
  assert.equal(seen.headers.authorization, 'Bearer abc')
  assert.equal(seen.headers['cache-control'], 'no-cache')
})

// ---- /_roost/: publishing from a function

test('POST /_roost/queues/Q/messages without a valid call token is refused 401 and goes nowhere', async () => {
  for (const headers of [{}, { 'x-roost-call': 'rc1.default.echo.' + 'A'.repeat(43) }, { 'x-roost-call': PlatformCallKey.generate().mint('default', 'echo') }] as Array<Record<string, string>>) {
    const response = await fetch(`${base}/_roost/queues/orders/messages`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"messages":[{"body":1}]}' })
    assert.equal(response.status, 401)
    assert.equal(response.headers.get('www-authenticate'), 'Roost-Call realm="roost"')
    assert.equal((await problemOf(response)).code, 'ROOST_E_UNAUTHORIZED')
  }
  assert.deepEqual(handedOver(), [])
  assert.equal(instance.requests.length, 0)
})

test('a publish with a call token goes to the control plane in the token\'s namespace, and its answer is the caller\'s', async () => {
  answerWith = () => ({ status: 201, headers: { 'content-type': 'application/json' }, body: '{"results":[{"id":"m1","outcome":"created"}]}' })
  const response = await fetch(`${base}/_roost/queues/orders/messages`, {
    method: 'POST',
    headers: { 'x-roost-call': callKey.mint('shop', 'cart'), 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ body: { order: 7 }, key: 'o-7' }] })
  })
  assert.equal(response.status, 201)
  assert.deepEqual(await response.json(), { results: [{ id: 'm1', outcome: 'created' }] })
  const [report] = handedOver()
  assert.equal(report?.t, 'publish')
  const publish = report as Extract<GatewayReport, { t: 'publish' }>
  assert.deepEqual({ namespace: publish.namespace, queue: publish.queue, caller: publish.caller, messages: publish.messages }, {
    namespace: 'shop', queue: 'orders', caller: 'fn:shop/cart', messages: [{ body: { order: 7 }, key: 'o-7' }]
  })
  assert.equal(response.headers.get('x-request-id'), publish.requestId)
  assert.equal(instance.requests.length, 0)
})

test('a publish body that is not JSON is 400, one without messages 422, one over 1 MiB 413; a GET is 405', async () => {
  const token = callKey.mint('default', 'echo')
  const post = async (body: string | Buffer): Promise<Response> => await fetch(`${base}/_roost/queues/orders/messages`, { method: 'POST', headers: { 'x-roost-call': token }, body })
  assert.equal((await problemOf(await post('{not json'))).code, 'ROOST_E_BAD_REQUEST')
  const missing = await post('{"message":[]}')
  assert.equal(missing.status, 422)
  assert.equal((await problemOf(missing)).field, 'messages')
  const large = await post(Buffer.alloc(1024 * 1024 + 1, 32))
  assert.equal(large.status, 413)
  const get = await fetch(`${base}/_roost/queues/orders/messages`, { headers: { 'x-roost-call': token } })
  assert.equal(get.status, 405)
  assert.equal(get.headers.get('allow'), 'POST')
  assert.deepEqual(handedOver(), [])
})

test('/_roost/ is the gateway\'s own: never routed to a function, even one whose path claims it', async () => {
  for (const path of ['/_roost/anything', '/_roost/queues/orders']) {
    const response = await fetch(base + path)
    assert.equal(response.status, 404, path)
    assert.equal((await problemOf(response)).code, 'ROOST_E_ROUTE_NOT_FOUND')
  }
  // `/_roost` itself, without the slash, is not the prefix: the squatter gets it.
  assert.equal((await fetch(`${base}/_roost`)).status, 200)
  assert.equal(instance.requests.length, 1)
})

// ---- async calls

test('POST /async/fn/NAME/… is read whole and handed to the control plane; the caller gets its 202 with Location and X-Call-Id', async () => {
  answerWith = () => ({ status: 202, headers: { location: '/apis/roost.dev/v1/namespaces/default/invocations/inv-1', 'x-call-id': 'inv-1', 'content-type': 'application/json' }, body: '{"id":"inv-1","status":"queued"}' })
  const response = await fetch(`${base}/async/fn/echo/work?x=1&wait=5s&y=2`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'x-custom': 'kept', 'x-callback-url': 'http://127.0.0.1:9/done', 'x-request-id': 'submit-1' },
    body: 'do it later'
  })
  assert.equal(response.status, 202)
  assert.equal(response.headers.get('location'), '/apis/roost.dev/v1/namespaces/default/invocations/inv-1')
  assert.equal(response.headers.get('x-call-id'), 'inv-1')
  assert.equal(response.headers.get('x-request-id'), 'submit-1')
  const [report] = handedOver()
  assert.equal(report?.t, 'invoke-async')
  const call = report as Extract<GatewayReport, { t: 'invoke-async' }>
  assert.deepEqual({ namespace: call.namespace, function: call.function, method: call.method, path: call.path, callbackUrl: call.callbackUrl, caller: call.caller, waitMs: call.waitMs, requestId: call.requestId }, {
    namespace: 'default', function: 'echo', method: 'POST', path: '/work?x=1&y=2', callbackUrl: 'http://127.0.0.1:9/done', caller: undefined, waitMs: 5000, requestId: 'submit-1'
  })
  assert.equal(Buffer.from(call.body).toString(), 'do it later')
  const names = call.headers.map(([name]) => name.toLowerCase())
  assert.ok(names.includes('x-custom') && names.includes('content-type'), names.join())
  for (const dropped of ['host', 'content-length', 'x-callback-url', 'x-request-id']) assert.ok(!names.includes(dropped), `${dropped} is not stored`)
  assert.equal(instance.requests.length, 0, 'the function is not called now')
})

test('an async call reaches a function by its own path too, and Prefer: wait= asks for a wait in seconds', async () => {
  answerWith = () => ({ status: 202, body: '' })
  const response = await fetch(`${base}/async/echo/sub`, { method: 'PUT', headers: { prefer: 'respond-async, wait=3' }, body: '{}' })
  assert.equal(response.status, 202)
  const call = handedOver()[0] as Extract<GatewayReport, { t: 'invoke-async' }>
  assert.deepEqual([call.function, call.method, call.path, call.waitMs], ['echo', 'PUT', '/sub', 3000])
  assert.ok(!call.headers.some(([name]) => name.toLowerCase() === 'prefer'))
})

test('an async call to no function is 404, a GET 405, a bad wait 400, a bad callback URL 422, a body over the async limit 413; none is handed over', async () => {
  const cases: Array<[string, RequestInit, number, string]> = [
    ['/async/fn/nobody', { method: 'POST', body: 'x' }, 404, 'ROOST_E_ROUTE_NOT_FOUND'],
    ['/async/fn/echo', { method: 'GET' }, 405, 'ROOST_E_BAD_REQUEST'],
    ['/async/fn/echo?wait=soon', { method: 'POST', body: 'x' }, 400, 'ROOST_E_BAD_REQUEST'],
    ['/async/fn/echo', { method: 'POST', body: 'x', headers: { 'x-callback-url': 'ftp://example.com/x' } }, 422, 'ROOST_E_VALIDATION'],
    ['/async/fn/echo', { method: 'POST', body: 'x'.repeat(4097) }, 413, 'ROOST_E_PAYLOAD_TOO_LARGE']
  ]
  for (const [path, init, status, code] of cases) {
    const response = await fetch(base + path, init)
    assert.equal(response.status, status, path)
    const problem = await problemOf(response)
    assert.equal(problem.code, code, path)
    if (status === 400 || status === 422) assert.ok(problem.field === 'wait' || problem.field === 'x-callback-url', problem.detail)
  }
  assert.deepEqual(handedOver(), [])
  assert.equal(instance.requests.length, 0)
})

test('an async call passes its function\'s caller check now: refused without credentials, else stored with its caller and without them', async () => {
  answerWith = () => ({ status: 202, body: '' })
  const refused = await fetch(`${base}/async/fn/private`, { method: 'POST', body: 'x' })
  assert.equal(refused.status, 401)
  assert.deepEqual(handedOver(), [])
  const accepted = await fetch(`${base}/async/fn/private`, { method: 'POST', body: 'x', headers: { 'x-roost-call': callKey.mint('default', 'caller-fn'), authorization: 'Bearer secret' } })
  assert.equal(accepted.status, 202)
  const call = handedOver()[0] as Extract<GatewayReport, { t: 'invoke-async' }>
  assert.equal(call.caller, 'fn:default/caller-fn')
  const names = call.headers.map(([name]) => name.toLowerCase())
  assert.ok(!names.includes('authorization') && !names.includes('x-roost-call'), names.join())
})

test('/async without a following slash is an ordinary path', async () => {
  assert.equal((await fetch(`${base}/async`)).status, 200)
  assert.equal(instance.requests.length, 1)
  assert.deepEqual(handedOver(), [])
})

// ---- CloudEvents

test('a structured-mode CloudEvent reaches the function in binary mode: ce-* headers, the data as the body, datacontenttype as Content-Type', async () => {
  const event = { specversion: '1.0', id: 'e-1', source: '/shop/orders', type: 'dev.shop.order.created', subject: 'order 7', time: '2026-01-02T03:04:05Z', comexampleext: 'yes', datacontenttype: 'application/json', data: { order: 7 } }
  const response = await fetch(`${base}/fn/echo/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json; charset=utf-8', 'x-custom': 'kept' }, body: JSON.stringify(event) })
  assert.equal(response.status, 200)
  const seen = await response.json() as Seen
  assert.deepEqual(seen.body, '{"order":7}')
  const ce = Object.fromEntries(Object.entries(seen.headers).filter(([name]) => name.startsWith('ce-')))
  assert.deepEqual(ce, { 'ce-specversion': '1.0', 'ce-id': 'e-1', 'ce-source': '/shop/orders', 'ce-type': 'dev.shop.order.created', 'ce-subject': 'order%207', 'ce-time': '2026-01-02T03:04:05Z', 'ce-comexampleext': 'yes' })
  assert.equal(seen.headers['content-type'], 'application/json')
  assert.equal(seen.headers['content-length'], '11')
  assert.equal(seen.headers['x-custom'], 'kept')
})

test('structured data_base64 arrives as its bytes, under its datacontenttype', async () => {
  const event = { specversion: '1.0', id: 'e-2', source: '/s', type: 't', datacontenttype: 'text/plain', data_base64: Buffer.from('plain text').toString('base64') }
  const seen = await (await fetch(`${base}/fn/echo`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) })).json() as Seen
  assert.equal(seen.body, 'plain text')
  assert.equal(seen.headers['content-type'], 'text/plain')
})

test('a binary-mode CloudEvent goes through as it came', async () => {
  const headers = { 'ce-specversion': '1.0', 'ce-id': 'b-1', 'ce-source': '/s', 'ce-type': 't', 'content-type': 'text/plain' }
  const seen = await (await fetch(`${base}/fn/echo`, { method: 'POST', headers, body: 'data' })).json() as Seen
  for (const [name, value] of Object.entries(headers)) assert.equal(seen.headers[name], value)
  assert.equal(seen.body, 'data')
})

test('an invalid CloudEvent is refused 400 naming the attribute, in both modes, and never reaches the function', async () => {
  const structured = await fetch(`${base}/fn/echo`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ specversion: '1.0', source: '/s', type: 't' }) })
  assert.equal(structured.status, 400)
  const a = await problemOf(structured)
  assert.equal(a.code, 'ROOST_E_INVALID_CLOUD_EVENT')
  assert.equal(a.field, 'id')
  const binary = await fetch(`${base}/fn/echo`, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-source': '/s' }, body: 'x' })
  assert.equal(binary.status, 400)
  const b = await problemOf(binary)
  assert.deepEqual(b.errors?.map((e) => e.field), ['ce-id', 'ce-type'])
  const notJson = await fetch(`${base}/fn/echo`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: '{' })
  assert.equal(notJson.status, 400)
  const batch = await fetch(`${base}/fn/echo`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]' })
  assert.equal(batch.status, 400)
  assert.equal(instance.requests.length, 0)
})

test('a structured CloudEvent sent with Expect: 100-continue is answered 100 and converted', async () => {
  const body = JSON.stringify({ specversion: '1.0', id: 'c-1', source: '/s', type: 't', data: 'hi' })
  const seen = await new Promise<Seen>((resolve, reject) => {
    const req = httpRequest(`${base}/fn/echo`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } })
    req.on('continue', () => req.end(body))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Seen))
    })
    req.on('error', reject)
  })
  assert.equal(seen.headers['ce-id'], 'c-1')
  assert.equal(seen.body, '"hi"')
})

