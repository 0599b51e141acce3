import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { GatewayHandle } from '../../src/gateway/index.js'
import type { GatewayMetricsReport } from '../../src/gateway/index.js'
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
