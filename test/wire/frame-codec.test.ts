import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import {
  BODY_CHUNK_BYTES, FRAME_HEADER_BYTES, FrameDecoder, FrameType, FrameWriter, readRequestHead, readResponseHead,
  RequestFlags, WireError, type FrameSink, type RequestHead
} from '../../src/wire/index.js'

const LIMIT = 1024 * 1024

interface Seen { type: number, stream: number, payload: Buffer }

function decoder (limit = LIMIT): { decoder: FrameDecoder, frames: Seen[] } {
  const frames: Seen[] = []
  return { decoder: new FrameDecoder((type, stream, payload) => frames.push({ type, stream, payload: Buffer.from(payload) }), limit), frames }
}

/** A frame by hand: `length` defaults to the true one. */
function rawFrame (type: number, stream: number, payload: Buffer, length = payload.length + FRAME_HEADER_BYTES - 4): Buffer {
  const head = Buffer.alloc(FRAME_HEADER_BYTES)
  head.writeUInt32BE(length, 0)
  head[4] = type
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

/** A sink that keeps a copy of every write, as the kernel would. */
function copyingSink (): { sink: FrameSink, bytes: () => Buffer, writes: () => number } {
  const parts: Buffer[] = []
  let writes = 0
  return {
    sink: { write: (data) => { writes++; parts.push(Buffer.from(data)); return true }, cork () {}, uncork () {}, writableLength: 0 },
    bytes: () => Buffer.concat(parts),
    writes: () => writes
  }
}

const immediate = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

const HEAD: RequestHead = { flags: RequestFlags.HasBody, deadline: 1234.5, method: 'POST', url: '/a?b=1', requestId: 'r1', headers: ['Host', 'x', 'content-type', 'text/plain'] }

test('frames written in one turn arrive whole, one byte at a time or at once', async () => {
  const sink = new PassThrough()
  const writer = new FrameWriter(sink)
  writer.request(1, HEAD)
  writer.body(FrameType.RequestBody, 1, Buffer.alloc(300 * 1024, 7))
  writer.frame(FrameType.RequestEnd, 1)
  writer.response(2, { status: 201, headers: ['a', 'b'] })
  await immediate()
  const chunks: Buffer[] = []
  for (let chunk = sink.read() as Buffer | null; chunk !== null; chunk = sink.read() as Buffer | null) chunks.push(chunk)
  const bytes = Buffer.concat(chunks)
  for (const step of [1, 7, bytes.length]) {
    const { decoder: d, frames } = decoder()
    for (let i = 0; i < bytes.length; i += step) d.push(bytes.subarray(i, i + step))
    assert.deepEqual(frames.map(({ type, stream }) => [type, stream]), [[2, 1], [3, 1], [3, 1], [4, 1], [6, 2]])
    assert.deepEqual(readRequestHead(frames[0].payload), HEAD)
    assert.equal(frames[1].payload.length, BODY_CHUNK_BYTES, 'a body is cut into frames of at most BODY_CHUNK_BYTES')
    assert.equal(frames[1].payload.length + frames[2].payload.length, 300 * 1024)
    assert.deepEqual(readResponseHead(frames[4].payload), { status: 201, headers: ['a', 'b'] })
    assert.equal(d.pendingBytes, 0)
  }
})

test('many frames in one chunk are each delivered, as views of that chunk', () => {
  const chunk = Buffer.concat([rawFrame(7, 1, Buffer.from('one')), rawFrame(8, 1, Buffer.alloc(0)), rawFrame(7, 2, Buffer.from('two'))])
  const views: Buffer[] = []
  const d = new FrameDecoder((_type, _stream, payload) => views.push(payload), LIMIT)
  d.push(chunk)
  assert.deepEqual(views.map((v) => v.toString()), ['one', '', 'two'])
  assert.equal(views[0].buffer, chunk.buffer, 'no copy for a frame inside one chunk')
  assert.equal(d.pendingBytes, 0)
})

test('a frame split across chunks is assembled once, whatever the cut', () => {
  const payload = Buffer.from('a payload that will be cut in several places')
  const bytes = Buffer.concat([rawFrame(3, 9, payload), rawFrame(4, 9, Buffer.alloc(0))])
  for (let cut = 1; cut < bytes.length; cut++) {
    const { decoder: d, frames } = decoder()
    d.push(bytes.subarray(0, cut))
    if (cut < FRAME_HEADER_BYTES + payload.length) assert.equal(frames.length, 0, `nothing before the frame is complete (cut at ${cut})`)
    d.push(bytes.subarray(cut))
    assert.deepEqual(frames.map((f) => [f.type, f.stream, f.payload.toString()]), [[3, 9, payload.toString()], [4, 9, '']], `cut at ${cut}`)
    assert.equal(d.pendingBytes, 0)
  }
})

test('partial frames count as pending bytes until they complete', () => {
  const { decoder: d, frames } = decoder()
  const bytes = rawFrame(7, 1, Buffer.from('abcdef'))
  d.push(bytes.subarray(0, 4))
  assert.equal(d.pendingBytes, 4)
  d.push(bytes.subarray(4, 12))
  assert.equal(d.pendingBytes, 3)
  d.push(bytes.subarray(12))
  assert.equal(d.pendingBytes, 0)
  assert.equal(frames.length, 1)
})

test('a length over the bound is refused from the header alone, before any payload is buffered', () => {
  const { decoder: d, frames } = decoder(1024)
  const head = rawFrame(7, 1, Buffer.alloc(0), 1025 + FRAME_HEADER_BYTES - 4).subarray(0, FRAME_HEADER_BYTES)
  assert.throws(() => d.push(head), (err: unknown) => err instanceof WireError && err.code === 'ROOST_E_WIRE_FRAME_TOO_LARGE')
  assert.equal(frames.length, 0)
  // Exactly the bound is fine.
  const ok = decoder(1024)
  ok.decoder.push(rawFrame(7, 1, Buffer.alloc(1024)))
  assert.equal(ok.frames[0].payload.length, 1024)
})

test('an oversized length split across chunks is refused once its header is complete', () => {
  const { decoder: d } = decoder(1024)
  const head = rawFrame(7, 1, Buffer.alloc(0), 0xffffffff).subarray(0, FRAME_HEADER_BYTES)
  d.push(head.subarray(0, 3))
  assert.throws(() => d.push(head.subarray(3)), (err: unknown) => err instanceof WireError && err.code === 'ROOST_E_WIRE_FRAME_TOO_LARGE')
})

test('a length shorter than the header is malformed, and the decoder stays failed', () => {
  for (const length of [0, 1, 4]) {
    const { decoder: d } = decoder()
    assert.throws(() => d.push(rawFrame(7, 1, Buffer.alloc(0), length)), (err: unknown) => err instanceof WireError && err.code === 'ROOST_E_WIRE_MALFORMED', `length ${length}`)
    assert.throws(() => d.push(rawFrame(7, 1, Buffer.from('fine'))), WireError, 'every push after a failure throws')
  }
  // Five is the smallest length: type and stream, no payload.
  const { decoder: d, frames } = decoder()
  d.push(rawFrame(13, 0, Buffer.alloc(0), 5))
  assert.deepEqual(frames.map((f) => [f.type, f.stream, f.payload.length]), [[13, 0, 0]])
})

test('garbage ends in a WireError or in frames, never in another exception, and never buffers past the bound', () => {
  let seed = 42
  const random = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
  for (let round = 0; round < 300; round++) {
    const bytes = Buffer.alloc(1 + random() % 200)
    for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff
    const { decoder: d } = decoder(4096)
    try {
      for (let i = 0; i < bytes.length; i += 1 + random() % 16) d.push(bytes.subarray(i, i + 1 + random() % 16))
    } catch (err) {
      assert.ok(err instanceof WireError, `round ${round}: ${String(err)}`)
    }
    assert.ok(d.pendingBytes <= 4096 + FRAME_HEADER_BYTES)
  }
})

test('heads: truncated, overlong or lying about their counts are malformed', () => {
  const sink = copyingSink()
  const writer = new FrameWriter(sink.sink)
  writer.request(1, HEAD)
  writer.flush()
  const payload = sink.bytes().subarray(FRAME_HEADER_BYTES)
  assert.deepEqual(readRequestHead(payload), HEAD)
  for (let cut = 0; cut < payload.length; cut++) {
    assert.throws(() => readRequestHead(payload.subarray(0, cut)), (err: unknown) => err instanceof WireError && err.code === 'ROOST_E_WIRE_MALFORMED', `truncated at ${cut}`)
  }
  assert.throws(() => readRequestHead(Buffer.concat([payload, Buffer.from([0])])), /after its end/)
  const lying = Buffer.from([0, 200, 0, 3]) // status 200, 3 headers, no bytes for them
  assert.throws(() => readResponseHead(lying), WireError)
  assert.throws(() => readResponseHead(Buffer.alloc(1)), WireError)
  assert.deepEqual(readResponseHead(Buffer.from([0, 204, 0, 0])), { status: 204, headers: [] })
})

test('heads carry latin1 bytes as they are', () => {
  const sink = copyingSink()
  const writer = new FrameWriter(sink.sink)
  const head = { status: 200, headers: ['x-latin1', 'caf\u00e9 \u00ff', 'set-cookie', 'a=1', 'set-cookie', 'b=2'] }
  writer.response(3, head)
  writer.flush()
  assert.deepEqual(readResponseHead(sink.bytes().subarray(FRAME_HEADER_BYTES)), head)
})

test('a head no frame can carry throws and leaves nothing half-written behind', () => {
  const sink = copyingSink()
  const writer = new FrameWriter(sink.sink)
  writer.frame(FrameType.ResponseEnd, 1)
  assert.throws(() => writer.response(2, { status: 200, headers: ['x'.repeat(70_000), 'v'] }), RangeError)
  assert.throws(() => writer.response(2, { status: 70_000, headers: [] }), RangeError, 'a status wider than its field')
  const many: string[] = []
  for (let i = 0; i < 70_000; i++) many.push('a', 'b')
  assert.throws(() => writer.response(2, { status: 200, headers: many }), RangeError)
  writer.response(3, { status: 204, headers: [] })
  writer.flush()
  const { decoder: d, frames } = decoder()
  d.push(sink.bytes())
  assert.deepEqual(frames.map((f) => [f.type, f.stream]), [[FrameType.ResponseEnd, 1], [FrameType.Response, 3]])
})

test('a large head is written whole, wherever the buffer stands', () => {
  const sink = copyingSink()
  const writer = new FrameWriter(sink.sink)
  const big = { status: 200, headers: ['set-cookie', 'c'.repeat(100 * 1024), 'x-b', 'b'.repeat(30 * 1024)] }
  // Fill most of the buffer first, so the head does not fit where it would start.
  writer.frame(FrameType.ResponseBody, 1, Buffer.alloc(15 * 1024, 1))
  writer.frame(FrameType.ResponseBody, 1, Buffer.alloc(15 * 1024, 2))
  writer.frame(FrameType.ResponseBody, 1, Buffer.alloc(15 * 1024, 3))
  writer.frame(FrameType.ResponseBody, 1, Buffer.alloc(15 * 1024, 4))
  writer.response(2, big)
  writer.response(4, { status: 200, headers: ['x', 'y'.repeat(20 * 1024)] })
  writer.flush()
  const { decoder: d, frames } = decoder()
  d.push(sink.bytes())
  assert.equal(frames.length, 6)
  assert.deepEqual(frames.slice(0, 4).map((f) => f.payload[0]), [1, 2, 3, 4])
  assert.deepEqual(readResponseHead(frames[4].payload), big)
  assert.equal(readResponseHead(frames[5].payload).headers[1].length, 20 * 1024)
})

test('the writer coalesces a turn into one write, keeps large payloads in order, and drops everything once closed', async () => {
  const sink = copyingSink()
  const writer = new FrameWriter(sink.sink)
  writer.frame(FrameType.ResponseBody, 1, Buffer.from('small'))
  writer.frame(FrameType.ResponseBody, 1, Buffer.alloc(64 * 1024, 9))
  writer.frame(FrameType.ResponseEnd, 1)
  assert.ok(writer.queuedBytes > 64 * 1024)
  assert.equal(sink.writes(), 0, 'nothing leaves before the end of the turn')
  await immediate()
  const { decoder: d, frames } = decoder()
  d.push(sink.bytes())
  assert.deepEqual(frames.map((f) => [f.type, f.payload.length]), [[7, 5], [7, 64 * 1024], [8, 0]])
  assert.equal(writer.queuedBytes, 0)
  writer.close()
  writer.frame(FrameType.ResponseEnd, 2)
  await immediate()
  writer.flush()
  const after = decoder()
  after.decoder.push(sink.bytes())
  assert.equal(after.frames.length, 3, 'nothing written after close')
})
