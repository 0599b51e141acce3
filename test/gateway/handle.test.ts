import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { GatewayHandle } from '../../src/gateway/index.js'
import type { AsyncInvocationRequest, GatewayMetricsReport, PublishRequest } from '../../src/gateway/index.js'
import { PlatformCallKey } from '../../src/governance/index.js'
import { ControlPlaneMetrics } from '../../src/metrics/index.js'
import { parseExposition, value } from '../metrics/parse-exposition.js'
import { FakeInstance } from './fake-instance.js'

// The gateway in its worker thread, as the control plane drives it: the
// metrics event, GET /metrics on the gateway port, and scrape().

test('the handle emits metrics reports, serves /metrics with both parts, and scrape() returns the gateway\'s part', async () => {
  const instance = await FakeInstance.start((req, res) => res.end('hi'))
  const controlPlane = new ControlPlaneMetrics({ defaultMetrics: false })
  controlPlane.coldStart({ namespace: 'default', name: 'w', version: 1 }, 0.2, true)
  const handle = await GatewayHandle.start({ host: '127.0.0.1', port: 0, bodyLimit: 1024, metricsIntervalMs: 100, scrapeControlPlane: async () => await controlPlane.text() })
  try {
    handle.pushTable({
      revision: 1,
      functions: [{ key: 'default/w', namespace: 'default', name: 'w', paths: [], versions: [{ key: 'default/w@1', version: 1, timeoutMs: 5000, concurrency: 4, queueLimit: 10 }], traffic: [{ version: 1, percent: 100 }] }],
      instances: [{ id: 'w1', versionKey: 'default/w@1', socketPath: instance.socketPath, secret: instance.secret, state: 'ready' }]
    })
    for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`${handle.url}/fn/w`)).text(), 'hi')

    const [report] = await once(handle, 'metrics') as [GatewayMetricsReport]
    assert.equal(report.t, 'metrics')
    assert.ok(report.versions.some((v) => v.key === 'default/w@1'))
    assert.ok(report.instances.some((i) => i.id === 'w1' && i.versionKey === 'default/w@1'))

    const response = await fetch(`${handle.url}/metrics`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const both = parseExposition(await response.text())
    const labels = { namespace: 'default', function: 'w', version: '1' }
    assert.equal(value(both, 'roost_requests_total', { ...labels, code: '2xx' }), 3)
    assert.equal(value(both, 'roost_instance_starts_total', { ...labels, pool: 'hit' }), 1)

    const own = parseExposition(await handle.scrape())
    assert.equal(value(own, 'roost_request_duration_seconds_count', labels), 3)
    assert.equal(own.filter((s) => s.name.startsWith('roost_instance_')).length, 0, 'scrape() is the gateway\'s part alone')
  } finally {
    await handle.close()
    await instance.close()
  }
  assert.equal(await handle.scrape(), '', 'after close, scrape() answers at once with nothing')
})

test('a control plane that throws or rejects does not break /metrics', async () => {
  let calls = 0
  const handle = await GatewayHandle.start({
    host: '127.0.0.1',
    port: 0,
    bodyLimit: 1024,
    scrapeControlPlane: () => {
      calls++
      if (calls === 1) throw new Error('sync failure')
      return Promise.reject(new Error('async failure'))
    }
  })
  try {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${handle.url}/metrics`)
      assert.equal(response.status, 200)
      assert.match(await response.text(), /# TYPE roost_requests_total counter/)
    }
    assert.equal(calls, 2)
    assert.equal((await fetch(`${handle.url}/healthz`)).status, 200)
  } finally {
    await handle.close()
  }
})

test('a publish and an async call cross to the control plane\'s handlers and their answers come back; a handler that throws is a 500, none a 503', async () => {
  const callKey = PlatformCallKey.generate()
  const published: PublishRequest[] = []
  const invoked: AsyncInvocationRequest[] = []
  let fail = false
  const handle = await GatewayHandle.start({
    host: '127.0.0.1',
    port: 0,
    bodyLimit: 1024,
    callKey: callKey.bytes(),
    eventToken: 'ab'.repeat(32),
    publish: (request) => {
      published.push(request)
      if (fail) throw new Error('the store is gone')
      return { status: 201, headers: { 'content-type': 'application/json' }, body: '{"results":[]}' }
    },
    invokeAsync: async (request) => {
      invoked.push(request)
      return { status: 202, headers: { 'x-call-id': 'c-1' }, body: new Uint8Array([123, 125]) }
    }
  })
  const bare = await GatewayHandle.start({ host: '127.0.0.1', port: 0, bodyLimit: 1024, callKey: callKey.bytes() })
  try {
    assert.equal(handle.eventToken, 'ab'.repeat(32))
    handle.pushTable({
      revision: 1,
      functions: [{ key: 'default/w', namespace: 'default', name: 'w', paths: [], versions: [{ key: 'default/w@1', version: 1, timeoutMs: 5000, concurrency: 4, queueLimit: 10 }], traffic: [{ version: 1, percent: 100 }] }],
      instances: []
    })
    await handle.tableApplied(1)
    const publish = { method: 'POST', headers: { 'x-roost-call': callKey.mint('default', 'w') }, body: '{"messages":[{"body":1}]}' }
    const created = await fetch(`${handle.url}/_roost/queues/orders/messages`, publish)
    assert.deepEqual([created.status, await created.text()], [201, '{"results":[]}'])
    assert.deepEqual(published.map((p) => [p.namespace, p.queue, p.messages]), [['default', 'orders', [{ body: 1 }]]])
    fail = true
    const failed = await fetch(`${handle.url}/_roost/queues/orders/messages`, publish)
    assert.equal(failed.status, 500)
    assert.match((await failed.json() as { detail: string }).detail, /the store is gone/)

    const accepted = await fetch(`${handle.url}/async/fn/w/x`, { method: 'POST', body: 'later' })
    assert.deepEqual([accepted.status, accepted.headers.get('x-call-id'), await accepted.text()], [202, 'c-1', '{}'])
    assert.deepEqual(invoked.map((i) => [i.function, i.path, Buffer.from(i.body).toString()]), [['w', '/x', 'later']])

    // A publish needs no routing table: the gateway without a control plane answers at once.
    const refused = await fetch(`${bare.url}/_roost/queues/orders/messages`, publish)
    assert.equal(refused.status, 503)
    assert.match((await refused.json() as { detail: string }).detail, /hands no events to a control plane/)
  } finally {
    await handle.close()
    await bare.close()
  }
})
