import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Gateway } from '../../src/gateway/index.js'
import type { RoutingTable } from '../../src/gateway/index.js'
import { FakeInstance } from './fake-instance.js'

// The gateway protecting itself: with its event loop held up (here by a busy
// loop on the same thread, as a flood of work would), it answers part of the
// new requests 503 at once, keeps /healthz answering, and stops shedding when
// the loop catches up.

const gateway = new Gateway({ host: '127.0.0.1', port: 0, bodyLimit: 1024, loadShedding: { lagTargetMs: 40, smoothing: 1 } }, () => {})
let instance: FakeInstance | undefined

after(async () => {
  await gateway.close()
  await instance?.close()
})

function table (u: FakeInstance): RoutingTable {
  return {
    revision: 1,
    functions: [{
      key: 'default/hello', namespace: 'default', name: 'hello', paths: [],
      versions: [{ key: 'default/hello@1', version: 1, timeoutMs: 10_000, concurrency: 100, queueLimit: 100 }],
      traffic: [{ version: 1, percent: 100 }]
    }],
    instances: [{ id: 'h1', versionKey: 'default/hello@1', socketPath: u.socketPath, secret: u.secret, state: 'ready' }]
  }
}

async function eventually (check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function busy (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* holds the event loop, as a saturated gateway's work would */ }
}

test('a gateway whose event loop runs late sheds part of the new requests with 503 and Retry-After, never /healthz', async () => {
  instance = await FakeInstance.start((_req, res) => res.end('hello'))
  const { port } = await gateway.listen()
  const base = `http://127.0.0.1:${port}`
  gateway.applyTable(table(instance))
  assert.equal((await fetch(`${base}/fn/hello`)).status, 200)

  // Hold the loop 150 ms at a time until the gateway sheds.
  const holder = setInterval(() => busy(150), 10)
  try {
    await eventually(async () => {
      const response = await fetch(`${base}/fn/hello`)
      await response.arrayBuffer()
      return response.status === 503
    }, 'a shed request')
    const answers = await Promise.all(Array.from({ length: 20 }, async () => {
      const response = await fetch(`${base}/fn/hello`)
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() }
    }))
    const shed = answers.filter((a) => a.status === 503)
    assert.ok(shed.length > 0, 'some requests are shed')
    assert.ok(answers.some((a) => a.status === 200), 'not every request is shed')
    for (const a of shed) {
      assert.equal(a.retryAfter, '1')
      assert.equal(JSON.parse(a.body).code, 'ROOST_E_GATEWAY_OVERLOADED')
    }
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${base}/healthz`)).status, 200)
    const metrics = await (await fetch(`${base}/metrics`)).text()
    const total = /^roost_gateway_shed_total (\d+)$/m.exec(metrics)
    assert.ok(total !== null && Number(total[1]) >= shed.length)
  } finally {
    clearInterval(holder)
  }

  // Caught up, it serves everything again.
  await eventually(async () => {
    const statuses = await Promise.all(Array.from({ length: 20 }, async () => {
      const response = await fetch(`${base}/fn/hello`)
      await response.arrayBuffer()
      return response.status
    }))
    return statuses.every((s) => s === 200)
  }, 'shedding to stop')
})
