// `spec.http.host` (issue 10, item 19): custom domains beside the path routes,
// through a real gateway with real Host headers.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, writeProject } from '../helpers/platform.js'
import { ok } from '../helpers/e2e.js'
import { expectCliError } from '../helpers/problems.js'

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  const echo = (who: string): string => `export default (req: Request) => new Response('${who} ' + new URL(req.url).pathname + ' ' + (req.headers.get('x-forwarded-prefix') ?? '-'))\n`
  dir = writeProject({
    'site.ts': echo('site'),
    'api.ts': echo('api'),
    'site.yaml': manifest('site', 'source: ./site.ts\nhttp: { host: www.example.test }'),
    'api.yaml': manifest('api', 'source: ./api.ts\nhttp: { host: www.example.test, path: /v1 }'),
    'clash.yaml': manifest('clash', 'source: ./api.ts\nhttp: { host: www.example.test, path: /v1 }'),
    'elsewhere.yaml': manifest('elsewhere', 'source: ./api.ts\nhttp: { host: other.example.test, path: /v1 }'),
    'upper.yaml': manifest('upper', 'source: ./api.ts\nhttp: { host: WWW.Example.test }'),
    'port.yaml': manifest('port', 'source: ./api.ts\nhttp: { host: "www.example.test:8080" }')
  })
  for (const file of ['site.yaml', 'api.yaml']) ok(await platform.cli(['apply', '-f', join(dir, file), '--wait']), `apply ${file}`)
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** GET through the gateway with this Host header (fetch does not let a caller set Host). */
async function get (host: string, path: string): Promise<{ status: number, body: string }> {
  const gateway = new URL(platform.config.gateway)
  return await new Promise((resolve, reject) => {
    const req = request({ host: gateway.hostname, port: gateway.port, path, headers: { host } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('a host without a path answers every path of that host, as the caller sent it', async () => {
  assert.deepEqual(await get('www.example.test', '/about'), { status: 200, body: 'site /about ' })
  assert.deepEqual(await get('WWW.EXAMPLE.TEST:80', '/'), { status: 200, body: 'site / ' })
})

test('a host with a path answers under that path on that host, prefix stripped as for path routes', async () => {
  assert.deepEqual(await get('www.example.test', '/v1/users'), { status: 200, body: 'api /users /v1' })
})

test('other hosts reach the functions by /fn/ only; the host routes are not theirs', async () => {
  assert.equal((await get('127.0.0.1', '/v1/users')).status, 404)
  assert.equal((await get('127.0.0.1', '/about')).status, 404)
  assert.deepEqual(await get('127.0.0.1', '/fn/api/x'), { status: 200, body: 'api /x /fn/api' })
})

test('the same path on the same host is refused; on another host it is a route of its own', async () => {
  expectCliError(await platform.cli(['apply', '-f', join(dir, 'clash.yaml')]), /spec\.http\.host www\.example\.test with path \/v1 is already routed to function api/)
  ok(await platform.cli(['apply', '-f', join(dir, 'elsewhere.yaml'), '--wait']))
  assert.deepEqual(await get('other.example.test', '/v1'), { status: 200, body: 'api / /v1' })
})

test('a host must be a lower-case DNS name without a port, as the schema says', async () => {
  expectCliError(await platform.cli(['apply', '-f', join(dir, 'upper.yaml')]), /spec\.http\.host/)
  expectCliError(await platform.cli(['apply', '-f', join(dir, 'port.yaml')]), /spec\.http\.host/)
})

test('get -o wide and describe show the host route', async () => {
  assert.match(ok(await platform.cli(['get', 'functions', 'api', '-o', 'wide'])), /\/fn\/api,\/fn\/api\.default,www\.example\.test\/v1\s/)
  assert.match(ok(await platform.cli(['describe', 'site'])), /^Routes:\s+\/fn\/site, \/fn\/site\.default, www\.example\.test\/$/m)
})
