// Deliveries of the platform (docs/event-delivery.md) to a real runtime host,
// over its real data socket: queue batches, cron firings, async invocations.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FrameType } from '../../src/wire/index.js'
import { until } from '../helpers/wait.js'
import { header, loadedHost, logLines, type DataPeer, type HostPeer } from './host-peer.js'

interface Problem { code: string, status: number, detail: string, field?: string, requestId: string }

function message (id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id, body: { n: id }, bodyType: 'json', attributes: {}, attempt: 1, maxAttempts: 5,
    source: '/namespaces/default/queues/orders', type: 'dev.roost.message', createdAt: 1764000000000, ...overrides
  }
}

function batch (...messages: Array<Record<string, unknown>>): string {
  return JSON.stringify({ queue: 'orders', messages })
}

async function connected (host: HostPeer): Promise<DataPeer> {
  return await host.connect(await host.secret())
}

async function answerOf (peer: DataPeer, stream: number): Promise<{ status: number | undefined, type: string | undefined, json: unknown }> {
  const answer = await peer.answer(stream)
  assert.equal(answer.end, 'end')
  return { status: answer.head?.status, type: header(answer.head, 'content-type'), json: JSON.parse(answer.body) }
}

/** The lines a request logged, once `count` of them arrived. */
async function linesOf (host: HostPeer, requestId: string, count: number): Promise<string[]> {
  await until(() => logLines(host).filter((l) => l.requestId === requestId).length >= count, `${count} lines of ${requestId}`)
  return logLines(host).filter((l) => l.requestId === requestId).map((l) => l.message)
}

test('a queue batch: each message settles on its own, the first settlement counts, the unsettled ones are acknowledged', async (t) => {
  const host = await loadedHost(t, `export default {
    async queue (batch, ctx) {
      const [a, b, c, d, e, f] = batch
      a.ack()
      b.retry({ delay: '5s' })
      c.retry({ delay: 250 })
      d.deadLetter('poison: no sku')
      f.ack(); f.retry(); f.deadLetter('too late')
      await new Promise((resolve) => setTimeout(resolve, 10))
      console.log('handled', batch.length, 'of', batch.queue, 'in', ctx.requestId)
    }
  }`)
  const peer = await connected(host)
  peer.request(1, { event: 'queue', requestId: 'batch-1', body: batch(message('a'), message('b'), message('c'), message('d'), message('e'), message('f')) })
  const answer = await answerOf(peer, 1)
  assert.equal(answer.status, 200)
  assert.equal(answer.type, 'application/json')
  assert.deepEqual(answer.json, {
    results: [
      { id: 'a', outcome: 'ack' },
      { id: 'b', outcome: 'retry', delayMs: 5000 },
      { id: 'c', outcome: 'retry', delayMs: 250 },
      { id: 'd', outcome: 'dead', reason: 'poison: no sku' },
      { id: 'e', outcome: 'ack' },
      { id: 'f', outcome: 'ack' }
    ]
  })
  assert.deepEqual(await linesOf(host, 'batch-1', 1), ['handled 6 of orders in batch-1'], 'console lines after an await carry the delivery\'s request id')
})

test('a message carries its id, decoded body, attributes, attempts and CloudEvents attributes', async (t) => {
  const host = await loadedHost(t, `export default {
    queue (batch) {
      for (const m of batch) {
        const body = m.body instanceof Uint8Array ? { bytes: [...m.body], plain: m.body.constructor.name, own: m.body.byteOffset === 0 && m.body.buffer.byteLength === m.body.length } : m.body
        console.log(JSON.stringify({ id: m.id, body, attributes: m.attributes, attempt: m.attempt, maxAttempts: m.maxAttempts, createdAt: m.createdAt, cloudEvent: m.cloudEvent }))
      }
      console.log(JSON.stringify({ isArray: Array.isArray(batch), keys: Object.keys(batch), spread: [...batch].length }))
    }
  }`)
  const peer = await connected(host)
  peer.request(1, {
    event: 'queue',
    requestId: 'fields',
    body: batch(
      message('j', { body: { sku: 'A-1', qty: 2 }, attributes: { tenant: 'acme' }, attempt: 2, maxAttempts: 3, subject: 'order/1', contentType: 'application/json' }),
      message('t', { body: 'plain text', bodyType: 'text' }),
      message('b', { body: Buffer.from([0, 1, 254, 255]).toString('base64'), bodyType: 'bytes', type: 'com.example.blob', source: '/upstream' })
    )
  })
  assert.equal((await answerOf(peer, 1)).status, 200)
  const [json, text, bytes, shape] = (await linesOf(host, 'fields', 4)).map((line) => JSON.parse(line) as Record<string, unknown>)
  assert.deepEqual(json, {
    id: 'j', body: { sku: 'A-1', qty: 2 }, attributes: { tenant: 'acme' }, attempt: 2, maxAttempts: 3, createdAt: 1764000000000,
    cloudEvent: { specversion: '1.0', id: 'j', source: '/namespaces/default/queues/orders', type: 'dev.roost.message', time: '2025-11-24T16:00:00.000Z', datacontenttype: 'application/json', subject: 'order/1' }
  })
  assert.equal(text.body, 'plain text')
  assert.deepEqual(bytes.body, { bytes: [0, 1, 254, 255], plain: 'Uint8Array', own: true }, 'bytes: a Uint8Array of its own, not a view of a shared pool')
  assert.deepEqual(bytes.cloudEvent, { specversion: '1.0', id: 'b', source: '/upstream', type: 'com.example.blob', time: '2025-11-24T16:00:00.000Z' })
  assert.deepEqual(shape, { isArray: true, keys: ['0', '1', '2'], spread: 3 })
})

test('a queue handler that throws: every message not settled is retried with the error, the stack goes to the logs', async (t) => {
  const host = await loadedHost(t, `export default {
    async queue (batch) {
      batch[0].ack()
      batch[1].deadLetter()
      await null
      throw new Error('database unreachable')
    }
  }`)
  const peer = await connected(host)
  peer.request(1, { event: 'queue', requestId: 'thrown', body: batch(message('a'), message('b'), message('c'), message('d')) })
  const answer = await answerOf(peer, 1)
  assert.equal(answer.status, 200)
  assert.deepEqual(answer.json, {
    results: [
      { id: 'a', outcome: 'ack' },
      { id: 'b', outcome: 'dead', reason: 'dead-lettered by the handler' },
      { id: 'c', outcome: 'retry', error: 'database unreachable' },
      { id: 'd', outcome: 'retry', error: 'database unreachable' }
    ]
  })
  const [line] = await linesOf(host, 'thrown', 1)
  assert.match(line, /^the queue handler threw an error: Error: database unreachable\n\s+at /)
})

test('batch.ackAll and retryAll settle what is not settled yet; settling after the handler finished is ignored and logged', async (t) => {
  const host = await loadedHost(t, `export default {
    queue (batch) {
      if (batch.queue === 'later') { setTimeout(() => batch[0].deadLetter('late'), 20); return }
      batch[0].deadLetter('first')
      if (batch.length === 2) batch.ackAll()
      else batch.retryAll({ delay: '1m' })
    }
  }`)
  const peer = await connected(host)
  peer.request(1, { event: 'queue', body: batch(message('a'), message('b')) })
  peer.request(3, { event: 'queue', body: batch(message('c'), message('d'), message('e')) })
  peer.request(5, { event: 'queue', requestId: 'late', body: JSON.stringify({ queue: 'later', messages: [message('f')] }) })
  assert.deepEqual((await answerOf(peer, 1)).json, { results: [{ id: 'a', outcome: 'dead', reason: 'first' }, { id: 'b', outcome: 'ack' }] })
  assert.deepEqual((await answerOf(peer, 3)).json, { results: [{ id: 'c', outcome: 'dead', reason: 'first' }, { id: 'd', outcome: 'retry', delayMs: 60_000 }, { id: 'e', outcome: 'retry', delayMs: 60_000 }] })
  assert.deepEqual((await answerOf(peer, 5)).json, { acked: 1 }, 'a batch all acknowledged is answered with the count alone')
  assert.deepEqual(await linesOf(host, 'late', 1), ['message f: deadLetter() after the queue handler finished is ignored'])
})

test('the fields of `shared` are every message\'s that does not have its own, and shared attributes are each message\'s own copy', async (t) => {
  const host = await loadedHost(t, `export default {
    queue (batch) {
      batch[0].attributes.changed = 'by the handler'
      for (const m of batch) console.log(JSON.stringify({ id: m.id, body: m.body, attributes: m.attributes, attempt: m.attempt, maxAttempts: m.maxAttempts, cloudEvent: m.cloudEvent }))
    }
  }`)
  const peer = await connected(host)
  const shared = { bodyType: 'json', attributes: { tenant: 'acme' }, maxAttempts: 7, source: '/brokers/redis/orders', type: 'dev.roost.message', subject: 'order', contentType: 'application/json' }
  const body = JSON.stringify({
    queue: 'orders',
    shared,
    messages: [
      { id: 'a', body: { n: 1 }, attempt: 1, createdAt: 1764000000000 },
      { id: 'b', body: 'own text', bodyType: 'text', attributes: { own: 'yes' }, attempt: 2, maxAttempts: 3, type: 'com.example.other', createdAt: 1764000000000 },
      { id: 'c', body: { n: 3 }, attempt: 1, createdAt: 1764000000000 }
    ]
  })
  peer.request(1, { event: 'queue', requestId: 'shared', body })
  assert.deepEqual((await answerOf(peer, 1)).json, { acked: 3 })
  const [a, b, c] = (await linesOf(host, 'shared', 3)).map((line) => JSON.parse(line) as Record<string, unknown>)
  assert.deepEqual(a, {
    id: 'a', body: { n: 1 }, attributes: { tenant: 'acme', changed: 'by the handler' }, attempt: 1, maxAttempts: 7,
    cloudEvent: { specversion: '1.0', id: 'a', source: '/brokers/redis/orders', type: 'dev.roost.message', time: '2025-11-24T16:00:00.000Z', datacontenttype: 'application/json', subject: 'order' }
  })
  assert.deepEqual(b, {
    id: 'b', body: 'own text', attributes: { own: 'yes' }, attempt: 2, maxAttempts: 3,
    cloudEvent: { specversion: '1.0', id: 'b', source: '/brokers/redis/orders', type: 'com.example.other', time: '2025-11-24T16:00:00.000Z', datacontenttype: 'application/json', subject: 'order' }
  })
  assert.deepEqual(c.attributes, { tenant: 'acme' }, 'a change to one message\'s shared attributes is not another\'s')
})

test('a field wrong in `shared`, or in neither `shared` nor the message, is a 400 naming where it is', async (t) => {
  const host = await loadedHost(t, 'export default { queue () { console.log(\'ran\') } }')
  const peer = await connected(host)
  const bare = { id: 'a', body: 1, attempt: 1, createdAt: 1764000000000 }
  const cases: Array<{ body: unknown, field: string, detail: RegExp }> = [
    { body: { queue: 'q', shared: [], messages: [bare] }, field: 'shared', detail: /must be an object/ },
    { body: { queue: 'q', shared: { source: '' }, messages: [bare] }, field: 'shared.source', detail: /non-empty string/ },
    { body: { queue: 'q', shared: { maxAttempts: 0 }, messages: [bare] }, field: 'shared.maxAttempts', detail: /at least 1/ },
    { body: { queue: 'q', shared: { bodyType: 'json', maxAttempts: 5, type: 't' }, messages: [bare] }, field: 'messages[0].source', detail: /non-empty string/ },
    { body: { queue: 'q', shared: { bodyType: 'xml' }, messages: [bare] }, field: 'shared.bodyType', detail: /"json", "text" or "bytes"/ },
    { body: { queue: 'q', shared: { bodyType: 'json', maxAttempts: 5, source: 's', type: 't' }, messages: [bare, { ...bare, createdAt: 'then' }] }, field: 'messages[1].createdAt', detail: /epoch milliseconds/ }
  ]
  for (const [i, bad] of cases.entries()) {
    const stream = 2 * i + 1
    peer.request(stream, { event: 'queue', body: JSON.stringify(bad.body) })
    const answer = await answerOf(peer, stream)
    assert.equal(answer.status, 400, JSON.stringify(bad.body))
    const problem = answer.json as Problem
    assert.equal(problem.field, bad.field, JSON.stringify(bad.body))
    assert.match(problem.detail, bad.detail)
  }
  assert.equal(logLines(host).some((l) => l.message === 'ran'), false)
})

test('a bad retry delay is the handler\'s error: the message is retried with it', async (t) => {
  const host = await loadedHost(t, 'export default { queue (batch) { batch[0].retry({ delay: \'soon\' }) } }')
  const peer = await connected(host)
  peer.request(1, { event: 'queue', body: batch(message('a')) })
  const [result] = ((await answerOf(peer, 1)).json as { results: Array<{ outcome: string, error: string }> }).results
  assert.equal(result.outcome, 'retry')
  assert.match(result.error, /^retry\(\{ delay \}\) must be a number of milliseconds or a duration such as "500ms", "5s", "2m" or "1h", got "soon"$/)
})

test('a delivery body that is not JSON, or not the contract, is a 400 problem naming the field; the handler never runs', async (t) => {
  const host = await loadedHost(t, 'export default { queue () { console.log(\'ran\') }, scheduled () { console.log(\'ran\') } }')
  const peer = await connected(host)
  const cases: Array<{ event: string, body: string, field: string | undefined, detail: RegExp }> = [
    { event: 'queue', body: '{"queue": "orders", "messages": [', field: undefined, detail: /^the body is not JSON: / },
    { event: 'queue', body: '[]', field: undefined, detail: /^the body must be a JSON object$/ },
    { event: 'queue', body: JSON.stringify({ queue: 'orders', messages: [] }), field: 'messages', detail: /non-empty array/ },
    { event: 'queue', body: batch(message('a'), message('b', { bodyType: 'xml' })), field: 'messages[1].bodyType', detail: /"json", "text" or "bytes"/ },
    { event: 'queue', body: batch(message('a', { body: 'not base64!', bodyType: 'bytes' })), field: 'messages[0].body', detail: /base64/ },
    { event: 'queue', body: batch(message('a', { attempt: 0 })), field: 'messages[0].attempt', detail: /at least 1/ },
    { event: 'queue', body: batch(message('a', { attributes: { n: 1 } })), field: 'messages[0].attributes.n', detail: /must be a string/ },
    { event: 'scheduled', body: JSON.stringify({ trigger: 'nightly', cron: '0 0 * * *', timezone: 'UTC', id: 'f-1' }), field: 'scheduledTime', detail: /epoch milliseconds/ },
    { event: 'somethingelse', body: '{}', field: undefined, detail: /^x-roost-event "somethingelse" is none of queue, scheduled, invocation$/ }
  ]
  for (const [i, bad] of cases.entries()) {
    const stream = 2 * i + 1
    peer.request(stream, { event: bad.event, requestId: `bad-${i}`, body: bad.body })
    const answer = await answerOf(peer, stream)
    assert.equal(answer.status, 400, bad.body)
    assert.equal(answer.type, 'application/problem+json')
    const problem = answer.json as Problem
    assert.equal(problem.code, 'ROOST_E_BAD_REQUEST')
    assert.equal(problem.field, bad.field, bad.body)
    assert.match(problem.detail, bad.detail)
    assert.equal(problem.requestId, `bad-${i}`)
  }
  assert.equal(logLines(host).some((l) => l.message === 'ran'), false)
})

test('a delivery to a module without its handler is a 500 ROOST_E_NO_HANDLER problem', async (t) => {
  const host = await loadedHost(t, 'export default () => new Response(\'http only\')')
  const peer = await connected(host)
  peer.request(1, { event: 'queue', requestId: 'no-queue', body: batch(message('a')) })
  peer.request(3, { event: 'scheduled', body: JSON.stringify({ trigger: 't', cron: '* * * * *', timezone: 'UTC', scheduledTime: 0, id: 'x' }) })
  const queue = await answerOf(peer, 1)
  const scheduled = await answerOf(peer, 3)
  assert.equal(queue.status, 500)
  assert.equal((queue.json as Problem).code, 'ROOST_E_NO_HANDLER')
  assert.equal((queue.json as Problem).detail, 'function test has a queue trigger but its module exports no queue handler: export default { async queue (batch, ctx) { … } }')
  assert.equal((queue.json as Problem).requestId, 'no-queue')
  assert.equal(scheduled.status, 500)
  assert.equal((scheduled.json as Problem).code, 'ROOST_E_NO_HANDLER')
  assert.match((scheduled.json as Problem).detail, /exports no scheduled handler/)
})

test('a module with only a queue handler loads; an HTTP request to it is a 500 ROOST_E_NO_HANDLER problem', async (t) => {
  const host = await loadedHost(t, 'export default { queue (batch) {} }')
  const peer = await connected(host)
  peer.request(1, { requestId: 'http-call' })
  const answer = await answerOf(peer, 1)
  assert.equal(answer.status, 500)
  assert.equal(answer.type, 'application/problem+json')
  assert.deepEqual(answer.json, {
    type: 'https://roost.dev/errors/ROOST_E_NO_HANDLER',
    title: 'No handler',
    status: 500,
    code: 'ROOST_E_NO_HANDLER',
    detail: 'function test serves no HTTP requests: its module exports no fetch handler (only queue)',
    requestId: 'http-call'
  })
  peer.request(3, { event: 'queue', body: batch(message('a')) })
  assert.deepEqual((await answerOf(peer, 3)).json, { acked: 1 })
})

test('a scheduled firing: the handler gets cron, scheduledTime, id, trigger and timezone; a throw answers 500 with its message', async (t) => {
  const host = await loadedHost(t, `export default {
    async scheduled (event, ctx) {
      console.log(JSON.stringify(event), ctx.requestId)
      if (event.trigger === 'broken') throw new TypeError('report template missing')
    }
  }`)
  const peer = await connected(host)
  const firing = { trigger: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Paris', scheduledTime: 1764036000000, id: 'nightly-1764036000000' }
  peer.request(1, { event: 'scheduled', requestId: 'cron-1', body: JSON.stringify(firing) })
  const answer = await answerOf(peer, 1)
  assert.equal(answer.status, 200)
  assert.deepEqual(answer.json, { outcome: 'ack' })
  const [line] = await linesOf(host, 'cron-1', 1)
  assert.equal(line, `${JSON.stringify({ id: firing.id, trigger: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Paris', scheduledTime: 1764036000000 })} cron-1`)

  peer.request(3, { event: 'scheduled', requestId: 'cron-2', body: JSON.stringify({ ...firing, trigger: 'broken' }) })
  const failed = await answerOf(peer, 3)
  assert.equal(failed.status, 500)
  assert.equal((failed.json as Problem).code, 'ROOST_E_HANDLER')
  assert.equal((failed.json as Problem).detail, 'the scheduled handler threw: report template missing')
  assert.ok((await linesOf(host, 'cron-2', 2)).some((l) => /^the scheduled handler threw an error: TypeError: report template missing\n\s+at /.test(l)))
})

test('an async invocation is served by fetch with ctx.callId; x-roost-event without the gateway\'s flag is not looked at', async (t) => {
  const host = await loadedHost(t, `export default {
    async fetch (req, ctx) { return Response.json({ callId: ctx.callId, body: await req.text(), event: req.headers.get('x-roost-event') }) },
    queue () { throw new Error('not a queue delivery') }
  }`)
  const peer = await connected(host)
  peer.request(1, { event: 'invocation', headers: ['host', 'fn.test', 'x-roost-call-id', 'inv-42'], body: 'stored request' })
  assert.deepEqual((await answerOf(peer, 1)).json, { callId: 'inv-42', body: 'stored request', event: 'invocation' })
  peer.request(3, { method: 'POST', headers: ['host', 'fn.test', 'x-roost-event', 'queue', 'x-roost-call-id', 'forged'], body: batch(message('a')) })
  const plain = (await answerOf(peer, 3)).json as { callId: string | null, event: string }
  assert.equal(plain.callId, null, 'no callId without the flag')
  assert.equal(plain.event, 'queue', 'served by fetch: the header alone makes no delivery')
  peer.request(5, {})
  assert.equal(((await answerOf(peer, 5)).json as { callId: string | null }).callId, null)
})

test('a delivery the gateway cancels (its deadline passed) gets nothing more sent, and still ends in time for a drain', async (t) => {
  const host = await loadedHost(t, `export default {
    async queue (batch) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      batch[0].ack()
      console.log('finished late')
    }
  }`)
  const peer = await connected(host)
  peer.request(1, { event: 'queue', requestId: 'slow', body: batch(message('a')) })
  await new Promise((resolve) => setTimeout(resolve, 20))
  peer.writer.frame(FrameType.Cancel, 1)
  host.send({ t: 'drain' })
  await linesOf(host, 'slow', 1)
  peer.close()
  await host.message('drained')
  assert.deepEqual(peer.framesOf(1), [], 'no answer after the Cancel')
  assert.deepEqual(await host.exited(), { code: 0, signal: null })
})
