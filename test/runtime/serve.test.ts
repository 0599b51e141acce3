// The runtime's HTTP mode (serve.js) as a real process on a real port.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RUNTIME_SERVE_ENTRY } from '../../src/runtime/index.js'
import { until } from '../helpers/wait.js'

const BUNDLE = `export default async (req, ctx) => {
  const url = new URL(req.url)
  console.log('serving', url.pathname)
  if (url.pathname === '/echo') return new Response(await req.text(), { headers: { 'x-method': req.method } })
  if (url.pathname === '/sse') return new Response(new ReadableStream({ start (c) { c.enqueue(new TextEncoder().encode('data: one\\n\\n')) } }), { headers: { 'content-type': 'text/event-stream' } })
  return new Response('hello ' + ctx.requestId.startsWith('local-'))
}`

async function serve (t: { after: (fn: () => void) => void }, code = BUNDLE): Promise<{ base: string, output: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'roost-serve-'))
  const bundle = join(dir, 'fn.mjs')
  writeFileSync(bundle, code)
  const child = spawn(process.execPath, [RUNTIME_SERVE_ENTRY, '--bundle', bundle, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { output += text })
  await until(() => /listening on (http:\/\/\S+)/.test(output), 'serve.js to listen')
  return { base: (/listening on (http:\/\/\S+)/.exec(output) as RegExpExecArray)[1], output: () => output }
}

test('serve.js answers with content-length, HEAD included, and echoes bodies', async (t) => {
  const { base, output } = await serve(t)
  const get = await fetch(`${base}/`)
  assert.equal(get.headers.get('content-length'), '10')
  assert.equal(await get.text(), 'hello true')
  const head = await fetch(`${base}/`, { method: 'HEAD' })
  assert.equal(head.headers.get('content-length'), '10')
  const echo = await fetch(`${base}/echo`, { method: 'POST', body: 'ping', headers: { 'x-request-id': 'given-id' } })
  assert.equal(await echo.text(), 'ping')
  assert.equal(echo.headers.get('x-method'), 'POST')
  await until(() => output().includes('given-id serving /echo'), 'the line with the given request id')
})

test('serve.js sends a stream\'s head and first chunk while the handler waits for its second', async (t) => {
  const { base } = await serve(t)
  const first = await new Promise<string>((resolve, reject) => {
    const req = request(`${base}/sse`, (res) => {
      res.setEncoding('utf8')
      res.once('data', (text: string) => { resolve(text); req.destroy() })
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(first, 'data: one\n\n')
})

test('serve.js (roost dev) takes a delivery by its x-roost-event header alone, so a queue handler can be tried with curl', async (t) => {
  const { base } = await serve(t, 'export default { queue (batch) { batch[0].retry({ delay: \'1s\' }) } }')
  const delivery = { queue: 'orders', messages: [1, 2].map((n) => ({ id: `m${n}`, body: n, bodyType: 'json', attempt: 1, maxAttempts: 3, source: '/dev', type: 'dev.roost.message', createdAt: 0 })) }
  const response = await fetch(base, { method: 'POST', headers: { 'x-roost-event': 'queue', 'content-type': 'application/json' }, body: JSON.stringify(delivery) })
  assert.equal(response.status, 200)
  assert.deepEqual(await response.json(), { results: [{ id: 'm1', outcome: 'retry', delayMs: 1000 }, { id: 'm2', outcome: 'ack' }] })
  const http = await fetch(base)
  assert.equal(http.status, 500)
  assert.equal((await http.json() as { code: string }).code, 'ROOST_E_NO_HANDLER')
})
