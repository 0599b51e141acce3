// What third-party tools read from a running platform: both /metrics
// endpoints pass promtool's rules (checked in code, see
// test/metrics/exposition-rules.ts) and /openapi.json passes the OpenAPI lint.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, writeProject } from '../helpers/platform.js'
import { ok, text } from '../helpers/e2e.js'
import { checkExposition } from '../metrics/exposition-rules.js'
import { lintOpenApi } from '../api/openapi-lint.js'
import { problemTitle } from '../../src/errors/index.js'

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'm.ts': "export default () => new Response('m')\n" })
  writeFileSync(join(dir, 'roost.yaml'), manifest('m', 'source: ./m.ts\nscale: { min: 1 }'))
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml'), '--wait']))
  // Requests, so that the request series have samples.
  for (let i = 0; i < 3; i++) assert.equal(await text(platform, '/fn/m'), 'm')
})

after(async () => {
  await platform?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

test('GET /metrics of the gateway and of the API passes the rules promtool checks', async () => {
  for (const [where, response] of [['gateway', await platform.fetch('/metrics')], ['API', await platform.api('/metrics', { token: null })]] as const) {
    assert.equal(response.status, 200)
    const body = await response.text()
    assert.deepEqual(checkExposition(body), [], `${where} /metrics`)
    for (const series of ['roost_requests_total', 'roost_request_duration_seconds', 'roost_instances', 'roost_instance_start_seconds', 'process_cpu_seconds_total']) {
      assert.match(body, new RegExp(`^# TYPE ${series} `, 'm'), `${where} serves ${series}`)
    }
  }
})

test('GET /openapi.json passes the OpenAPI lint', async () => {
  const response = await platform.api('/openapi.json', { token: null })
  assert.equal(response.status, 200)
  assert.deepEqual(lintOpenApi(await response.json() as object), [])
})

test('a request without a token is answered 401 with WWW-Authenticate', async () => {
  const response = await platform.api('/apis/roost.dev/v1/functions', { token: null })
  assert.equal(response.status, 401)
  assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="roost"')
})

test('problem documents title a code the same way in the API and in the gateway', async () => {
  const fromApi = await (await platform.api('/apis/roost.dev/v1/namespaces/default/functions/nope')).json() as { code: string, title: string }
  const fromGateway = await (await platform.fetch('/fn/nope')).json() as { code: string, title: string }
  assert.deepEqual([fromApi.code, fromApi.title], ['ROOST_E_NOT_FOUND', problemTitle('ROOST_E_NOT_FOUND')])
  assert.deepEqual([fromGateway.code, fromGateway.title], ['ROOST_E_ROUTE_NOT_FOUND', problemTitle('ROOST_E_ROUTE_NOT_FOUND')])
  assert.equal(fromGateway.title, 'Route not found')
})
