import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LazyRequest } from '../../src/runtime/lazy-request.js'
import { RequestBody } from '../../src/runtime/request-body.js'

function post (body: string | Buffer, headers: string[] = ['Host', 'fn.test', 'Content-Type', 'text/plain']): LazyRequest {
  const incoming = new RequestBody(null)
  incoming.push(Buffer.from(body))
  incoming.end()
  return new LazyRequest('POST', '/echo?x=1', headers, incoming)
}

test('a plain handler gets what it reads without the real Request ever being built', async () => {
  const req = post('{"a":1}')
  assert.ok(req instanceof Request)
  assert.equal(req.constructor, Request)
  assert.equal(req.method, 'POST')
  assert.equal(req.url, 'http://fn.test/echo?x=1')
  assert.equal(req.headers.get('content-type'), 'text/plain')
  assert.deepEqual(await req.json(), { a: 1 })
  assert.equal(req.bodyUsed, true)
  assert.equal(req.isLight, true, 'still light')
})

test('a body read twice fails as with a real Request, and stays used in the real one', async () => {
  const req = post('once')
  assert.equal(await req.text(), 'once')
  await assert.rejects(req.text(), TypeError)
  await assert.rejects(req.arrayBuffer(), TypeError)
  assert.equal(req.isLight, true)
  assert.ok(req.signal instanceof AbortSignal)
  assert.equal(req.isLight, false, 'the signal needs the real one')
  assert.equal(req.bodyUsed, true)
  await assert.rejects(req.text(), TypeError)
})

test('a request without a body reads as empty, any number of times', async () => {
  const req = new LazyRequest('GET', '/', ['host', 'h'], null)
  assert.equal(await req.text(), '')
  assert.equal(await req.text(), '')
  assert.equal(req.body, null)
  assert.equal(req.bodyUsed, false)
})

test('touching what only a real Request has builds it once, from what arrived', async () => {
  const req = post('streamed body')
  assert.equal(req.isLight, true)
  const headers = req.headers
  const reader = (req.body as ReadableStream<Uint8Array>).getReader()
  assert.equal(req.isLight, false)
  let text = ''
  for (let next = await reader.read(); !next.done; next = await reader.read()) text += Buffer.from(next.value).toString()
  assert.equal(text, 'streamed body')
  assert.equal(req.headers.get('content-type'), headers.get('content-type'))
  assert.equal(req.cache, 'default')
  assert.equal(req.method, 'POST')
})

test('clone, new Request(req) and the prototype methods work on it', async () => {
  const req = post('twice')
  const copy = req.clone()
  assert.equal(await copy.text(), 'twice')
  assert.equal(await req.text(), 'twice', 'the original is still readable after a clone')
  const other = post('again')
  const wrapped = new Request(other as unknown as Request)
  assert.equal(wrapped.url, 'http://fn.test/echo?x=1')
  assert.equal(await wrapped.text(), 'again')
  const third = post('proto')
  assert.equal(await Request.prototype.text.call(third), 'proto')
})

test('the signal aborts when the caller goes away, before or after it is first read', () => {
  const early = post('x')
  early.abort(new Error('gone'))
  assert.equal(early.signal.aborted, true)
  const late = post('x')
  const signal = late.signal
  assert.equal(signal.aborted, false)
  late.abort(new Error('gone'))
  assert.equal(signal.aborted, true)
})

test('the body streams as it arrives', async () => {
  const incoming = new RequestBody(null)
  const req = new LazyRequest('PUT', '/', ['host', 'h'], incoming)
  const reader = (req.body as ReadableStream<Uint8Array>).getReader()
  const first = reader.read()
  incoming.push(Buffer.from('a'))
  assert.equal(Buffer.from((await first).value as Uint8Array).toString(), 'a')
  const second = reader.read()
  incoming.push(Buffer.from('b'))
  incoming.end()
  assert.equal(Buffer.from((await second).value as Uint8Array).toString(), 'b')
  assert.equal((await reader.read()).done, true)
})

test('urls are what the URL parser makes of them, and json strips a BOM', async () => {
  for (const path of ['/a/../b', '/a b', '/%2e/x', '/caf\u00e9', '/q?x="y"']) {
    const req = new LazyRequest('GET', path, ['HOST', 'Fn.Test:8080'], null)
    assert.equal(req.url, new URL(path, 'http://fn.test:8080').href, path)
  }
  assert.equal(new LazyRequest('GET', '/', [], null).url, 'http://localhost/')
  const bom = post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"b":2}')]))
  assert.deepEqual(await bom.json(), { b: 2 })
})

test('arrayBuffer is a copy of exactly the body, and formData comes from the real one', async () => {
  const req = post('bytes')
  const buffer = await req.arrayBuffer()
  assert.equal(buffer.byteLength, 5)
  assert.equal(Buffer.from(buffer).toString(), 'bytes')
  const form = post('a=1&b=2', ['host', 'h', 'content-type', 'application/x-www-form-urlencoded'])
  const data = await form.formData()
  assert.equal(data.get('b'), '2')
})

test('a header the Headers class refuses is left out instead of failing the request', () => {
  const req = new LazyRequest('GET', '/', ['host', 'h', 'bad name', 'x', 'x-good', 'y'], null)
  assert.equal(req.headers.get('x-good'), 'y')
  assert.equal([...req.headers.keys()].includes('bad name'), false)
})

test('a body the handler does not read pauses its producer past the high-water mark, and reading resumes it', async () => {
  const events: string[] = []
  const incoming = new RequestBody({ pause: () => events.push('pause'), resume: () => events.push('resume') })
  for (let i = 0; i < 5; i++) incoming.push(Buffer.alloc(256 * 1024))
  assert.deepEqual(events, ['pause'])
  const reading = incoming.readAll()
  assert.deepEqual(events, ['pause', 'resume'], 'reading it whole never pauses')
  incoming.push(Buffer.alloc(10))
  incoming.end()
  assert.equal((await reading).length, 5 * 256 * 1024 + 10)
})

test('a TRACE request can still build its real Request, and keeps its method', () => {
  const req = new LazyRequest('TRACE', '/t', ['host', 'h'], null)
  assert.ok(req.signal instanceof AbortSignal)
  assert.equal(req.method, 'TRACE')
  assert.equal(req.url, 'http://h/t')
})
