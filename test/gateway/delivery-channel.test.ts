import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageChannel } from 'node:worker_threads'
import { DeliveryChannel } from '../../src/gateway/delivery-channel.js'
import { MAX_ANSWER_BYTES } from '../../src/gateway/delivery-messages.js'
import { DeliveryPort, type DeliveryServer } from '../../src/gateway/delivery-port.js'
import type { FastRequest } from '../../src/gateway/fast-request.js'
import type { PortResponse } from '../../src/gateway/port-response.js'

// The two ends of the channel over a real MessageChannel; the server stands where the Gateway does and answers as a test tells it.
function channel (serve: (req: FastRequest, res: PortResponse) => void) {
  const { port1, port2 } = new MessageChannel()
  const server: DeliveryServer = { serveDelivery: serve }
  const port = new DeliveryPort(port2, server)
  const client = new DeliveryChannel(port1, '127.0.0.1:8080')
  return {
    client,
    port,
    close: () => {
      client.close('the test ended')
      port.close()
    }
  }
}

const request = (over: Partial<Parameters<DeliveryChannel['deliver']>[0]> = {}): Parameters<DeliveryChannel['deliver']>[0] =>
  ({ method: 'POST', path: '/fn/sink.default/', headers: [['x-roost-event', 'queue'], ['X-Two', 'a'], ['x-two', 'b']], body: '{"n":1}', timeoutMs: 5000, ...over })

describe('the delivery channel to the gateway', () => {
  test('hands the request over as an HTTP client of the gateway port would, and brings the answer back whole', async () => {
    let seen: { method: string, url: string, raw: string[], body: string | null } | undefined
    const { client, close } = channel((req, res) => {
      seen = { method: req.method, url: req.url, raw: req.rawHeaders, body: req.preloaded?.toString('utf8') ?? null }
      assert.equal(req.headers['x-two'], 'a, b')
      res.writeHead(207, ['Content-Type', 'application/json', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2'])
      res.write(Buffer.from('{"results":'))
      res.end(Buffer.from('[]}'))
    })
    try {
      const answer = await client.deliver(request(), new AbortController().signal)
      assert.deepEqual(seen, {
        method: 'POST',
        url: '/fn/sink.default/',
        raw: ['host', '127.0.0.1:8080', 'content-length', '7', 'x-roost-event', 'queue', 'X-Two', 'a', 'x-two', 'b'],
        body: '{"n":1}'
      })
      assert.equal(answer.kind, 'answered')
      if (answer.kind !== 'answered') return
      assert.deepEqual([answer.status, answer.headers, answer.body.toString('utf8')], [207, { 'content-type': 'application/json', 'set-cookie': 'a=1, b=2' }, '{"results":[]}'])
    } finally {
      close()
    }
  })

  test('a Buffer body is sent as it is, an empty one as no body, and a status-only answer has an empty body', async () => {
    const bodies: Array<string | null> = []
    const { client, close } = channel((req, res) => {
      bodies.push(req.preloaded === null ? null : req.preloaded.toString('latin1'))
      res.writeHead(204, { 'x-count': 2 }).end()
    })
    try {
      const pooled = Buffer.from('\u00ff\u0001', 'latin1')
      const first = await client.deliver(request({ body: pooled }), new AbortController().signal)
      const second = await client.deliver(request({ body: '' }), new AbortController().signal)
      assert.deepEqual(bodies, ['\u00ff\u0001', null])
      assert.equal(pooled.length, 2, 'the caller\'s Buffer is left as it was (a copy was moved)')
      for (const answer of [first, second]) assert.deepEqual(answer.kind === 'answered' && [answer.status, answer.headers, answer.body.length], [204, { 'x-count': '2' }, 0])
    } finally {
      close()
    }
  })

  test('no answer within the delivery\'s time is timed-out, and the gateway is told its caller left', async () => {
    let left!: () => void
    const gone = new Promise<void>((resolve) => { left = resolve })
    let held: PortResponse | undefined
    const { client, close } = channel((_req, res) => {
      held = res
      res.on('close', left)
    })
    try {
      assert.deepEqual(await client.deliver(request({ timeoutMs: 50 }), new AbortController().signal), { kind: 'timed-out' })
      await gone
      assert.equal(held?.destroyed, true)
      // An answer after that goes nowhere and breaks nothing.
      held?.writeHead(200).end('late')
    } finally {
      close()
    }
  })

  test('an abort answers aborted at once and reaches the gateway as a caller that left', async () => {
    let left!: () => void
    const gone = new Promise<void>((resolve) => { left = resolve })
    const { client, close } = channel((_req, res) => { res.on('close', left) })
    try {
      const abort = new AbortController()
      const answer = client.deliver(request(), abort.signal)
      setTimeout(() => abort.abort(), 20)
      assert.deepEqual(await answer, { kind: 'aborted' })
      await gone
      const already = new AbortController()
      already.abort()
      assert.deepEqual(await client.deliver(request(), already.signal), { kind: 'aborted' })
    } finally {
      close()
    }
  })

  test('an answer broken off, or a gateway that throws, is unreachable with the cause', async () => {
    const { client, close } = channel((req, res) => {
      if (req.url === '/throws') throw new Error('no route table')
      res.writeHead(200)
      res.write(Buffer.from('part'))
      res.destroy()
    })
    try {
      assert.deepEqual(await client.deliver(request(), new AbortController().signal), { kind: 'unreachable', error: 'the gateway closed the delivery before it was answered in whole' })
      assert.deepEqual(await client.deliver(request({ path: '/throws' }), new AbortController().signal), { kind: 'unreachable', error: 'the gateway failed on the delivery: no route table' })
    } finally {
      close()
    }
  })

  test(`an answer past ${MAX_ANSWER_BYTES} bytes comes back cut there, and the rest is refused as by a caller that left`, async () => {
    let left = false
    const { client, close } = channel((_req, res) => {
      res.on('close', () => { left = true })
      res.writeHead(200)
      const chunk = Buffer.alloc(256 * 1024, 0x61)
      for (let i = 0; i < 5; i++) res.write(chunk)
      res.end()
    })
    try {
      const answer = await client.deliver(request(), new AbortController().signal)
      assert.deepEqual(answer.kind === 'answered' && [answer.status, answer.body.length], [200, MAX_ANSWER_BYTES])
      assert.equal(left, true)
    } finally {
      close()
    }
  })

  test('once the gateway is gone, deliveries in flight and later ones are unreachable', async () => {
    const { client, close } = channel(() => {})
    const pending = client.deliver(request(), new AbortController().signal)
    close()
    assert.deepEqual(await pending, { kind: 'unreachable', error: 'the test ended' })
    assert.deepEqual(await client.deliver(request(), new AbortController().signal), { kind: 'unreachable', error: 'the test ended' })
  })

  test('a gateway that closes its end answers what is in flight unreachable', async () => {
    const { client, port, close } = channel(() => {})
    try {
      const pending = client.deliver(request(), new AbortController().signal)
      await new Promise((resolve) => setTimeout(resolve, 20))
      port.close()
      assert.deepEqual(await pending, { kind: 'unreachable', error: 'the gateway closed its delivery channel' })
    } finally {
      close()
    }
  })
})
