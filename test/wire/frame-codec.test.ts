import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { FrameDecoder, FrameType, FrameWriter, readRequestHead, readResponseHead, RequestFlags } from '../../src/wire/index.js'

test('frames written in one turn arrive whole, one byte at a time or at once', async () => {
  const sink = new PassThrough()
  const writer = new FrameWriter(sink)
  writer.request(1, { flags: RequestFlags.HasBody, deadline: 1234.5, method: 'POST', url: '/a?b=1', requestId: 'r1', headers: ['Host', 'x', 'content-type', 'text/plain'] })
  writer.body(FrameType.RequestBody, 1, Buffer.alloc(300 * 1024, 7))
  writer.frame(FrameType.RequestEnd, 1)
  writer.response(2, { status: 201, headers: ['a', 'b'] })
  await new Promise((resolve) => setImmediate(resolve))
  const chunks: Buffer[] = []
  for (let chunk = sink.read() as Buffer | null; chunk !== null; chunk = sink.read() as Buffer | null) chunks.push(chunk)
  const bytes = Buffer.concat(chunks)
  for (const step of [1, 7, bytes.length]) {
    const frames: Array<[number, number, Buffer]> = []
    const decoder = new FrameDecoder((type, stream, payload) => frames.push([type, stream, Buffer.from(payload)]), 1024 * 1024)
    for (let i = 0; i < bytes.length; i += step) decoder.push(bytes.subarray(i, i + step))
    assert.deepEqual(frames.map(([type, stream]) => [type, stream]), [[2, 1], [3, 1], [3, 1], [4, 1], [6, 2]])
    assert.deepEqual(readRequestHead(frames[0][2]), { flags: 1, deadline: 1234.5, method: 'POST', url: '/a?b=1', requestId: 'r1', headers: ['Host', 'x', 'content-type', 'text/plain'] })
    assert.equal(frames[1][2].length + frames[2][2].length, 300 * 1024)
    assert.deepEqual(readResponseHead(frames[4][2]), { status: 201, headers: ['a', 'b'] })
    assert.equal(decoder.pendingBytes, 0)
  }
})
