// ctx.publish from a real runtime host. A plain node:http server on loopback
// stands in for the gateway's /_roost/ path: it is the instance's peer, and
// what it receives is the contract (docs/event-delivery.md).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { header, loadedHost, type HostPeer } from './host-peer.js'

interface Received { method: string | undefined, url: string | undefined, headers: IncomingHttpHeaders, body: unknown }

/** The stand-in: 201 with a result per message; queue `full` is 429, `missing` 404, `garbled` a 201 without results. */
async function gateway (t: { after: (fn: () => Promise<void>) => void }): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  let next = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: Array<{ key?: string }> }
      received.push({ method: req.method, url: req.url, headers: req.headers, body })
      const answer = (status: number, json: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': status < 300 ? 'application/json' : 'application/problem+json', ...headers })
        res.end(JSON.stringify(json))
      }
      if (req.url === '/_roost/queues/full/messages') {
        answer(429, { code: 'ROOST_E_QUEUE_FULL', status: 429, detail: 'queue default/full holds 10 messages, its maxDepth' }, { 'retry-after': '2' })
      } else if (req.url === '/_roost/queues/missing/messages') {
        answer(404, { code: 'ROOST_E_NOT_FOUND', status: 404, detail: 'no queue missing in namespace default', field: 'queue' })
      } else if (req.url === '/_roost/queues/garbled/messages') {
        answer(201, { results: [] })
      } else {
        answer(201, { results: body.messages.map((m) => m.key === 'seen' ? { id: 'earlier', outcome: 'duplicate' } : { id: `m-${++next}`, outcome: 'created' }) })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

// The handler runs what the request's body names and answers with what came of it.
const PUBLISHER = `export default async (req, ctx) => {
  const steps = {
    json: () => ctx.publish('orders', { sku: 'A-1', qty: 2 }),
    text: () => ctx.publish('orders', 'plain text', { key: 'k-1', delay: '5s', attributes: { tenant: 'acme' }, onDuplicate: 'replace' }),
    bytes: () => ctx.publish('orders', new Uint8Array([0, 1, 254, 255]), { delay: 250 }),
    buffer: () => ctx.publish('orders', new Uint8Array([9, 8, 7, 6, 5]).buffer.slice(2, 4)),
    view: () => ctx.publish('orders', new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 3)),
    duplicate: () => ctx.publish('orders', null, { key: 'seen' }),
    batch: () => ctx.publishBatch('orders', [{ body: 1 }, { body: 'two', key: 'k-2' }]),
    empty: () => ctx.publishBatch('orders', []),
    full: () => ctx.publish('full', {}),
    missing: () => ctx.publish('missing', {}),
    garbled: () => ctx.publish('garbled', {}),
    undefinedBody: () => ctx.publish('orders', undefined),
    badDelay: () => ctx.publish('orders', 1, { delay: 'soon' }),
    badAttribute: () => ctx.publish('orders', 1, { attributes: { n: 1 } }),
    noQueue: () => ctx.publish('', 1)
  }
  try {
    return Response.json({ ok: await steps[await req.text()]() })
  } catch (err) {
    return Response.json({ error: { name: err.name, message: err.message, code: err.code ?? null, status: err.status ?? null, retryAfterMs: err.retryAfterMs ?? null, field: err.field ?? null } })
  }
}`

async function publisher (t: { after: (fn: () => Promise<void>) => void }, gatewayUrl: string): Promise<(step: string) => Promise<Record<string, unknown>>> {
  const host: HostPeer = await loadedHost(t, PUBLISHER, { load: { gatewayUrl, callToken: 'call-token-of-test' } })
  const peer = await host.connect(await host.secret())
  let stream = -1
  return async (step) => {
    stream += 2
    peer.request(stream, { method: 'POST', requestId: `publish-${step}`, body: step })
    const answer = await peer.answer(stream)
    assert.equal(header(answer.head, 'content-type'), 'application/json')
    return JSON.parse(answer.body) as Record<string, unknown>
  }
}

test('ctx.publish POSTs one message per call to /_roost/queues/<queue>/messages with the call token; a JSON value, a string and bytes (any view, an ArrayBuffer) each keep their kind', async (t) => {
  const { url, received } = await gateway(t)
  const run = await publisher(t, url)
  assert.deepEqual(await run('json'), { ok: { id: 'm-1', outcome: 'created' } })
  assert.deepEqual(await run('text'), { ok: { id: 'm-2', outcome: 'created' } })
  assert.deepEqual(await run('bytes'), { ok: { id: 'm-3', outcome: 'created' } })
  assert.deepEqual(await run('buffer'), { ok: { id: 'm-4', outcome: 'created' } })
  assert.deepEqual(await run('view'), { ok: { id: 'm-5', outcome: 'created' } })
  assert.deepEqual(await run('duplicate'), { ok: { id: 'earlier', outcome: 'duplicate' } })
  assert.deepEqual(received.map((r) => r.body), [
    { messages: [{ body: { sku: 'A-1', qty: 2 }, bodyType: 'json' }] },
    { messages: [{ body: 'plain text', bodyType: 'text', key: 'k-1', delayMs: 5000, attributes: { tenant: 'acme' }, onDuplicate: 'replace' }] },
    { messages: [{ body: Buffer.from([0, 1, 254, 255]).toString('base64'), bodyType: 'bytes', delayMs: 250 }] },
    { messages: [{ body: Buffer.from([7, 6]).toString('base64'), bodyType: 'bytes' }] },
    { messages: [{ body: Buffer.from([8, 7]).toString('base64'), bodyType: 'bytes' }] },
    { messages: [{ body: null, bodyType: 'json', key: 'seen' }] }
  ])
  for (const [i, request] of received.entries()) {
    assert.equal(request.method, 'POST')
    assert.equal(request.url, '/_roost/queues/orders/messages')
    assert.equal(request.headers['x-roost-call'], 'call-token-of-test')
    assert.equal(request.headers['content-type'], 'application/json')
    assert.equal(request.headers['x-request-id'], `publish-${['json', 'text', 'bytes', 'buffer', 'view', 'duplicate'][i]}`, 'the publish names the request it came from')
  }
})

test('ctx.publishBatch sends its items in one request and resolves to a result per item; an empty batch sends nothing', async (t) => {
  const { url, received } = await gateway(t)
  const run = await publisher(t, url)
  assert.deepEqual(await run('batch'), { ok: [{ id: 'm-1', outcome: 'created' }, { id: 'm-2', outcome: 'created' }] })
  assert.deepEqual(await run('empty'), { ok: [] })
  assert.deepEqual(received.map((r) => r.body), [{ messages: [{ body: 1, bodyType: 'json' }, { body: 'two', bodyType: 'text', key: 'k-2' }] }])
})

test('a refused publish rejects with the problem\'s code and status: 429 with retryAfterMs, 404 with the field', async (t) => {
  const { url } = await gateway(t)
  const run = await publisher(t, url)
  assert.deepEqual(await run('full'), {
    error: { name: 'PublishError', message: 'ctx.publish("full"): queue default/full holds 10 messages, its maxDepth', code: 'ROOST_E_QUEUE_FULL', status: 429, retryAfterMs: 2000, field: null }
  })
  assert.deepEqual(await run('missing'), {
    error: { name: 'PublishError', message: 'ctx.publish("missing"): no queue missing in namespace default', code: 'ROOST_E_NOT_FOUND', status: 404, retryAfterMs: null, field: 'queue' }
  })
  assert.deepEqual(await run('garbled'), {
    error: { name: 'PublishError', message: 'ctx.publish("garbled"): the gateway answered 201 without a result for each message', code: 'ROOST_E_GATEWAY', status: 201, retryAfterMs: null, field: null }
  })
})

test('a publish the runtime cannot encode rejects with a TypeError and sends nothing', async (t) => {
  const { url, received } = await gateway(t)
  const run = await publisher(t, url)
  const messageOf = async (step: string): Promise<unknown> => ((await run(step)).error as { name: string, message: string })
  assert.deepEqual(await messageOf('undefinedBody'), { name: 'TypeError', message: 'ctx.publish("orders"): the body must be a JSON value, a string or bytes, not undefined', code: null, status: null, retryAfterMs: null, field: null })
  assert.match(((await run('badDelay')).error as { message: string }).message, /^ctx\.publish\("orders"\): delay must be a number of milliseconds or a duration/)
  assert.equal(((await run('badAttribute')).error as { message: string }).message, 'ctx.publish("orders"): attribute n must be a string, got number')
  assert.equal(((await run('noQueue')).error as { message: string }).message, 'ctx.publish(""): the queue must be a non-empty name')
  assert.equal(received.length, 0)
})

test('a gateway that cannot be reached: the publish rejects with status 0 and ROOST_E_CONNECTION', async (t) => {
  // A port that was just free: nothing listens there.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const run = await publisher(t, `http://127.0.0.1:${port}`)
  const { error } = await run('json') as { error: { code: string, status: number, message: string } }
  assert.equal(error.code, 'ROOST_E_CONNECTION')
  assert.equal(error.status, 0)
  assert.match(error.message, /^ctx\.publish\("orders"\): the gateway could not be reached: /)
})
