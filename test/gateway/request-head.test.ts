import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { HEAD_INCOMPLETE, HEAD_UNSUPPORTED, MAX_HEAD_BYTES, emptyHead, parseRequestHead, type ParsedHead } from '../../src/gateway/request-head.js'

// The fast path reads a strict subset of HTTP/1.1 request heads; whatever is
// outside it is "unsupported" and goes, unread, to node's own parser. So the
// subset must never read a head differently from llhttp, which the last test
// checks on many mutated heads.

function parse (text: string | Buffer): { at: number, head: ParsedHead } {
  const head = emptyHead()
  const at = parseRequestHead(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, 0, head)
  return { at, head }
}

test('a request as wrk, curl or a browser sends it: method, target, headers as sent, the offset past the blank line', () => {
  const text = 'GET /fn/hello?name=roost HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n'
  const { at, head } = parse(text)
  assert.equal(at, text.length)
  assert.equal(head.method, 'GET')
  assert.equal(head.url, '/fn/hello?name=roost')
  assert.deepEqual(head.rawHeaders, ['Host', '127.0.0.1:8080', 'User-Agent', 'curl/8.5.0', 'Accept', '*/*'])
  assert.equal(head.contentLength, -1)
  assert.equal(head.keepAlive, true)
})

test('a body\'s length is read; the next pipelined request starts where the head ends plus that length', () => {
  const first = 'POST /fn/echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\n'
  const buffer = Buffer.from(`${first}hello` + 'GET /fn/next HTTP/1.1\r\nhost: x\r\n\r\n', 'latin1')
  const head = emptyHead()
  const at = parseRequestHead(buffer, 0, head)
  assert.equal(at, first.length)
  assert.equal(head.contentLength, 5)
  const next = parseRequestHead(buffer, at + 5, head)
  assert.equal(next, buffer.length)
  assert.equal(head.url, '/fn/next')
  assert.equal(head.contentLength, -1, 'each head starts afresh')
})

test('every method the fast path takes; any other goes to node', () => {
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    assert.equal(parse(`${method} / HTTP/1.1\r\nhost: x\r\n\r\n`).head.method, method)
  }
  for (const method of ['get', 'PROPFIND', 'CONNECT', 'TRACE', 'GETS', 'POS']) {
    assert.equal(parse(`${method} / HTTP/1.1\r\nhost: x\r\n\r\n`).at, HEAD_UNSUPPORTED, method)
  }
})

test('values lose the spaces and tabs around them; an empty value is kept', () => {
  const { head } = parse('GET / HTTP/1.1\r\nhost:x\r\nx-a: \t spaced out \t\r\nx-empty:\r\nx-inner: a  b\r\n\r\n')
  assert.deepEqual(head.rawHeaders, ['host', 'x', 'x-a', 'spaced out', 'x-empty', '', 'x-inner', 'a  b'])
})

test('Connection: close ends keep-alive, in any case and among other options', () => {
  assert.equal(parse('GET / HTTP/1.1\r\nhost: x\r\nConnection: Close\r\n\r\n').head.keepAlive, false)
  assert.equal(parse('GET / HTTP/1.1\r\nhost: x\r\nconnection: te, close\r\n\r\n').head.keepAlive, false)
  assert.equal(parse('GET / HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n').head.keepAlive, true)
})

test('a head not all in yet is incomplete, up to the largest head; past it, node answers', () => {
  const text = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n'
  for (let i = 0; i < text.length; i++) assert.equal(parse(text.slice(0, i)).at, HEAD_INCOMPLETE, `${i} bytes`)
  assert.equal(parse(`GET / HTTP/1.1\r\nx-big: ${'a'.repeat(MAX_HEAD_BYTES)}`).at, HEAD_UNSUPPORTED)
  assert.equal(parse(`GET / HTTP/1.1\r\nx-big: ${'a'.repeat(MAX_HEAD_BYTES)}\r\nhost: x\r\n\r\n`).at, HEAD_UNSUPPORTED)
})

test('what could frame a message differently, or that node answers itself, is unsupported', () => {
  const cases: Record<string, string> = {
    'chunked body': 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n',
    'two Content-Lengths': 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\n',
    'a Content-Length list': 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1, 1\r\n\r\n',
    'a signed Content-Length': 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: +1\r\n\r\n',
    'an empty Content-Length': 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: \r\n\r\n',
    'a huge Content-Length': 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1234567890123456\r\n\r\n',
    Expect: 'POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 1\r\n\r\n',
    Upgrade: 'GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
    'Connection: upgrade': 'GET / HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\n\r\n',
    'HTTP/1.0': 'GET / HTTP/1.0\r\nhost: x\r\n\r\n',
    'HTTP/2 preface': 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    'absolute form': 'GET http://x/ HTTP/1.1\r\nhost: x\r\n\r\n',
    'asterisk form': 'OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n',
    'obs-fold': 'GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n 2\r\n\r\n',
    'a bare LF': 'GET / HTTP/1.1\r\nhost: x\nx-a: 1\r\n\r\n',
    'a bare CR': 'GET / HTTP/1.1\r\nhost: x\rx-a: 1\r\n\r\n',
    'space before the colon': 'GET / HTTP/1.1\r\nhost : x\r\n\r\n',
    'no colon': 'GET / HTTP/1.1\r\nhost x\r\n\r\n',
    'an empty name': 'GET / HTTP/1.1\r\n: x\r\nhost: x\r\n\r\n',
    'a NUL in a value': 'GET / HTTP/1.1\r\nhost: x\r\nx-a: a\u0000b\r\n\r\n',
    'a DEL in a value': 'GET / HTTP/1.1\r\nhost: x\r\nx-a: a\u007fb\r\n\r\n',
    'a byte above ASCII in a value': 'GET / HTTP/1.1\r\nhost: x\r\nx-a: caf\u00e9\r\n\r\n',
    'a byte above ASCII in the target': 'GET /caf\u00e9 HTTP/1.1\r\nhost: x\r\n\r\n',
    'a tab in the target': 'GET /a\tb HTTP/1.1\r\nhost: x\r\n\r\n',
    'two spaces after the method': 'GET  / HTTP/1.1\r\nhost: x\r\n\r\n',
    'a blank line first': '\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n',
    'no Host': 'GET / HTTP/1.1\r\nx-a: 1\r\n\r\n',
    'two Hosts': 'GET / HTTP/1.1\r\nhost: x\r\nHost: y\r\n\r\n'
  }
  for (const [what, text] of Object.entries(cases)) assert.equal(parse(text).at, HEAD_UNSUPPORTED, what)
})

test('more header lines than the fast path holds go to node', () => {
  const lines = Array.from({ length: 300 }, (_, i) => `x-${i}: ${i}\r\n`).join('')
  assert.equal(parse(`GET / HTTP/1.1\r\nhost: x\r\n${lines}\r\n`).at, HEAD_UNSUPPORTED)
})

// llhttp, as node's HTTP server runs it: the reference for every head the subset accepts.
const require = createRequire(import.meta.url)
const { HTTPParser, methods } = require('_http_common') as {
  HTTPParser: (new () => LlhttpParser) & { REQUEST: number, kOnHeaders: number, kOnHeadersComplete: number, kOnBody: number, kOnMessageComplete: number }
  methods: string[]
}
interface LlhttpParser {
  initialize (type: number, resource: object): void
  execute (data: Buffer): number | Error
  finish (): void
  close (): void
  [key: number]: unknown
}

interface LlhttpReading { method: string, url: string, headers: string[], keepAlive: boolean, complete: boolean, parsed: number | Error }

function llhttp (bytes: Buffer): LlhttpReading {
  const parser = new HTTPParser()
  parser.initialize(HTTPParser.REQUEST, {})
  const reading: LlhttpReading = { method: '', url: '', headers: [], keepAlive: false, complete: false, parsed: 0 }
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
    reading.headers.push(...headers)
    reading.url += url
  }
  parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[] | undefined, method: number, url: string | undefined, _status: number, _message: string, _upgrade: boolean, keepAlive: boolean) => {
    if (headers !== undefined) reading.headers.push(...headers)
    if (url !== undefined) reading.url += url
    reading.method = methods[method]
    reading.keepAlive = keepAlive
    return 0
  }
  parser[HTTPParser.kOnBody] = () => {}
  parser[HTTPParser.kOnMessageComplete] = () => { reading.complete = true }
  reading.parsed = parser.execute(bytes)
  parser.close()
  return reading
}

/** A seeded generator, so that a failure can be run again. */
function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 0x100000000
  }
}

test('whatever head the subset accepts, llhttp reads the same way: method, target, headers, keep-alive and where the message ends', () => {
  const bases = [
    'GET /fn/hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
    'POST /fn/echo?x=1 HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nabc',
    'PUT /a/b HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 0\r\nx-a: 1\r\n\r\n',
    'DELETE / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    'HEAD /x HTTP/1.1\r\nhost: h\r\ncookie: a=1; b=2\r\nauthorization: Bearer t\r\n\r\n'
  ]
  const alphabet = [' ', '\t', '\r', '\n', ':', ',', '/', 'a', 'Z', '0', '9', '\u0000', '\u007f', '\u0080', '\u00ff', 'H', 'T', 'P', '1', '.', '-', '+', ';', '=']
  const next = random(20261202)
  let accepted = 0
  for (let n = 0; n < 30_000; n++) {
    let text = bases[Math.floor(next() * bases.length)]
    const edits = 1 + Math.floor(next() * 3)
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * text.length)
      const op = next()
      if (op < 0.5) text = text.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)] + text.slice(at)
      else if (op < 0.8) text = text.slice(0, at) + text.slice(at + 1)
      else text = text.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)] + text.slice(at + 1)
    }
    const bytes = Buffer.from(text, 'latin1')
    const head = emptyHead()
    const end = parseRequestHead(bytes, 0, head)
    if (end < 0) continue
    accepted++
    const length = Math.max(head.contentLength, 0)
    if (end + length > bytes.length) continue
    const message = bytes.subarray(0, end + length)
    const reference = llhttp(message)
    const where = JSON.stringify(text)
    assert.equal(reference.parsed, message.length, `llhttp parsed the whole message: ${where}`)
    assert.ok(reference.complete, `llhttp saw the message end where the subset said: ${where}`)
    assert.equal(reference.method, head.method, where)
    assert.equal(reference.url, head.url, where)
    assert.deepEqual(reference.headers, head.rawHeaders, where)
    assert.equal(reference.keepAlive, head.keepAlive, where)
  }
  assert.ok(accepted > 1000, `only ${accepted} mutated heads were accepted: the comparison says little`)
})
