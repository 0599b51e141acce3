import { test } from 'node:test'
import assert from 'node:assert/strict'
import { installLightResponse, LightResponse, NativeResponse } from '../../src/runtime/light-response.js'
import type { ResponseSink } from '../../src/runtime/response-sink.js'
import { writeResponse } from '../../src/runtime/response-writer.js'

installLightResponse()

/** Records what the writer does; `writable` false makes every chunk wait for ready(). */
class RecordingSink implements ResponseSink {
  closed = false
  events: Array<[string, ...unknown[]]> = []
  writable = true
  private readyResolve: (() => void) | null = null
  private closeCallback: (() => void) | null = null

  whole (status: number, headers: string[], body: string | Uint8Array | null, omitBody: boolean): void {
    const length = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length
    this.events.push(['whole', status, headers, omitBody ? null : body === null ? '' : Buffer.from(body).toString(), length])
  }

  head (status: number, headers: string[]): void { this.events.push(['head', status, headers]) }
  chunk (data: Uint8Array): boolean { this.events.push(['chunk', Buffer.from(data).toString()]); return this.writable }
  ready (): Promise<void> { this.events.push(['ready']); return new Promise((resolve) => { this.readyResolve = resolve }) }
  release (): void { const resolve = this.readyResolve; this.readyResolve = null; resolve?.() }
  end (): void { this.events.push(['end']) }
  abort (reason: string): void { this.events.push(['abort', reason]) }
  pending (): void {}
  onClose (callback: () => void): void { this.closeCallback = callback }
  close (): void { this.closed = true; this.closeCallback?.(); this.release() }
  kinds (): string[] { return this.events.map((event) => event[0]) }
}

const tick = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

function controlled (): { stream: ReadableStream<Uint8Array>, push: (text: string) => void, close: () => void, fail: (err: Error) => void, cancelled: () => unknown, pulls: () => number } {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let cancelled: unknown = null
  let pulls = 0
  const stream = new ReadableStream<Uint8Array>({
    start (c) { controller = c },
    pull () { pulls++ },
    cancel (reason) { cancelled = reason ?? 'cancelled' }
  }, { highWaterMark: 0 })
  return {
    stream,
    push: (text) => controller.enqueue(new TextEncoder().encode(text)),
    close: () => controller.close(),
    fail: (err) => controller.error(err),
    cancelled: () => cancelled,
    pulls: () => pulls
  }
}

test('Response is the light one, and it is still a Response in every way user code checks', async () => {
  const response = new Response('hi')
  assert.ok(LightResponse.is(response))
  assert.ok(response instanceof NativeResponse)
  assert.equal(response.constructor, Response)
  assert.equal(response.status, 200)
  assert.equal(await response.text(), 'hi')
  await assert.rejects(response.text(), TypeError, 'the body is used once, as with a real one')
  assert.throws(() => new Response('x', { status: 99 }), RangeError)
  assert.throws(() => new Response('x', { status: 204 }), TypeError)
  assert.throws(() => new Response('x', { headers: { 'bad name': 'v' } }), TypeError)
  class Mine extends Response { extra = 1 }
  const mine = new Mine('sub', { status: 201 })
  assert.ok(mine instanceof NativeResponse)
  assert.equal(mine.extra, 1)
  assert.equal(await mine.clone().text(), 'sub')
  assert.equal((await Response.json({ a: 1 }).json() as { a: number }).a, 1)
  assert.equal(Response.redirect('http://x/y', 307).headers.get('location'), 'http://x/y')
  const copied = new NativeResponse('from init', new Response(null, { status: 202, headers: { 'x-a': 'b' } }))
  assert.equal(copied.status, 202)
  assert.equal(copied.headers.get('x-a'), 'b')
})

test('plain bodies leave whole with their byte length, whatever made the Response', () => {
  const cases: Array<[Response, number, string]> = [
    [new Response('héllo'), 6, 'héllo'],
    [new Response(new Uint8Array([104, 105])), 2, 'hi'],
    [new Response(new Uint8Array([104, 105]).buffer), 2, 'hi'],
    [new Response(null, { status: 204 }), 0, ''],
    [new NativeResponse('native'), 6, 'native'],
    [Response.json({ a: 1 }), 7, '{"a":1}'],
    [new NativeResponse('cloned').clone(), 6, 'cloned'],
    [new Response('lies', { headers: { 'content-length': '99', 'x-keep': '1' } }), 4, 'lies']
  ]
  for (const [response, length, body] of cases) {
    const sink = new RecordingSink()
    assert.equal(writeResponse(response, sink, false), undefined, 'no promise for a plain body')
    const [kind, , headers, text, sentLength] = sink.events[0] as [string, number, string[], string, number]
    assert.equal(kind, 'whole')
    assert.equal(text, body)
    assert.equal(sentLength, length)
    assert.equal(headers.includes('content-length'), false, 'the sink adds the true length; a given one is dropped')
  }
  const sink = new RecordingSink()
  writeResponse(new Response('x', { headers: { 'content-type': 'application/x' } }), sink, false)
  assert.deepEqual(sink.events[0][2], ['content-type', 'application/x'])
  const text = new RecordingSink()
  writeResponse(new Response('x'), text, false)
  assert.deepEqual(text.events[0][2], ['content-type', 'text/plain;charset=UTF-8'], 'the same default as undici')
})

test('bodies of other kinds (Blob, form data, search params) arrive whole, with their content type', async () => {
  const cases: Array<[Response, string, RegExp]> = [
    [new Response(new Blob(['blob body'], { type: 'text/x-blob' })), 'blob body', /^text\/x-blob$/],
    [new Response(new URLSearchParams({ a: '1', b: 'two' })), 'a=1&b=two', /^application\/x-www-form-urlencoded/],
    [new Response((() => { const form = new FormData(); form.set('field', 'value'); return form })()), 'value', /^multipart\/form-data; boundary=/]
  ]
  for (const [response, text, type] of cases) {
    const sink = new RecordingSink()
    await writeResponse(response, sink, false)
    const body = sink.events.filter((e) => e[0] === 'chunk' || e[0] === 'whole').map((e) => e[0] === 'whole' ? e[3] : e[1]).join('')
    assert.ok(body.includes(text), body)
    const headers = sink.events[0][2] as string[]
    assert.match(headers[headers.indexOf('content-type') + 1], type)
  }
})

test('a light Response whose headers were changed is written as changed', () => {
  const response = new Response('x', { headers: { 'x-a': '1' } })
  response.headers.set('x-b', '2')
  const sink = new RecordingSink()
  writeResponse(response, sink, false)
  assert.equal(sink.events[0][0], 'whole')
  assert.deepEqual(sink.events[0][2], ['content-type', 'text/plain;charset=UTF-8', 'x-a', '1', 'x-b', '2'])
})

test('HEAD: the length a GET would have, no body', async () => {
  for (const response of [new Response('four'), new NativeResponse('four')]) {
    const sink = new RecordingSink()
    writeResponse(response, sink, true)
    assert.deepEqual([sink.events[0][0], sink.events[0][3], sink.events[0][4]], ['whole', null, 4])
  }
  const streamed = controlled()
  const sink = new RecordingSink()
  await writeResponse(new Response(streamed.stream), sink, true)
  assert.deepEqual(sink.kinds(), ['head', 'end'])
  await tick()
  assert.notEqual(streamed.cancelled(), null, 'the body of a HEAD is not read')
})

test('a stream: the head and the first chunk leave before the handler has a second one', async () => {
  const streamed = controlled()
  const sink = new RecordingSink()
  const done = writeResponse(new Response(streamed.stream, { headers: { 'content-type': 'text/event-stream' } }), sink, false)
  assert.ok(done instanceof Promise)
  streamed.push('data: one\n\n')
  await tick()
  assert.deepEqual(sink.kinds(), ['head', 'chunk'])
  assert.equal(sink.events[1][1], 'data: one\n\n')
  streamed.push('data: two\n\n')
  streamed.close()
  await done
  assert.deepEqual(sink.kinds(), ['head', 'chunk', 'chunk', 'end'])
  assert.equal((sink.events[0][2] as string[]).includes('content-length'), false, 'no length for a stream')
})

test('back-pressure: nothing more is pulled from the handler until the sink is ready', async () => {
  const streamed = controlled()
  const sink = new RecordingSink()
  sink.writable = false
  const done = writeResponse(new Response(streamed.stream), sink, false)
  streamed.push('a')
  await tick()
  assert.deepEqual(sink.kinds(), ['head', 'chunk', 'ready'])
  const pulls = streamed.pulls()
  await tick()
  assert.equal(streamed.pulls(), pulls, 'no read while the sink is not ready')
  sink.writable = true
  sink.release()
  streamed.push('b')
  streamed.close()
  await done
  assert.deepEqual(sink.kinds(), ['head', 'chunk', 'ready', 'chunk', 'end'])
})

test('a stream that fails after the head is aborted, and the error reaches the caller of the writer', async () => {
  const streamed = controlled()
  const sink = new RecordingSink()
  const done = writeResponse(new Response(streamed.stream), sink, false) as Promise<void>
  streamed.push('partial')
  await tick()
  streamed.fail(new Error('disk on fire'))
  await assert.rejects(done, /disk on fire/)
  assert.deepEqual(sink.kinds(), ['head', 'chunk', 'abort'])
  assert.equal(sink.events[2][1], 'disk on fire')
})

test('a stream yielding something else than bytes is aborted', async () => {
  const sink = new RecordingSink()
  const stream = new ReadableStream({ start (c) { c.enqueue('text'); c.close() } })
  await assert.rejects(writeResponse(new Response(stream as ReadableStream<Uint8Array>), sink, false) as Promise<void>, TypeError)
  assert.deepEqual(sink.kinds(), ['head', 'abort'])
})

test('when the caller goes away the handler\'s stream is cancelled and nothing more is sent', async () => {
  const streamed = controlled()
  const sink = new RecordingSink()
  const done = writeResponse(new Response(streamed.stream), sink, false)
  streamed.push('first')
  await tick()
  sink.close()
  await done
  await tick()
  assert.notEqual(streamed.cancelled(), null)
  assert.deepEqual(sink.kinds(), ['head', 'chunk'])
})

test('Response.error() and other unsendable statuses throw before anything is sent', () => {
  const sink = new RecordingSink()
  assert.throws(() => writeResponse(Response.error(), sink, false), /status 0/)
  assert.deepEqual(sink.events, [])
})

test('a streamed response whose head cannot be sent throws before anything is sent', () => {
  const sink = new RecordingSink()
  sink.head = () => { throw new RangeError('too many headers') }
  assert.throws(() => writeResponse(new Response(new ReadableStream()), sink, false), RangeError)
  assert.deepEqual(sink.events, [])
})
