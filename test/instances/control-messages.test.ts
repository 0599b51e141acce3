import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { ControlChannel } from '../../src/instances/control-channel.js'
import { parseChildMessage, MAX_LOG_LINE_CHARS, MAX_LOG_LINES_PER_MESSAGE, type ChildMessage } from '../../src/instances/index.js'
import { FRAME_HEADER_BYTES, FrameType, MAX_CONTROL_PAYLOAD_BYTES } from '../../src/wire/index.js'

const SECRET = 'ab'.repeat(32)
const line = { time: 1, level: 'info', stream: 'console', requestId: null, message: 'hi' }

function check (value: unknown): ReturnType<typeof parseChildMessage> {
  return parseChildMessage(Buffer.from(JSON.stringify(value)))
}

function problem (value: unknown): string {
  const checked = check(value)
  assert.equal(checked.ok, false, `accepted ${JSON.stringify(value).slice(0, 100)}`)
  return checked.ok ? '' : checked.problem
}

test('every message of the protocol passes, and comes out with only its own fields', () => {
  const valid: ChildMessage[] = [
    { t: 'listening', secret: SECRET },
    { t: 'ready', loadMs: 1.5 },
    { t: 'load-failed', reason: 'Error: x' },
    { t: 'pong', id: 3, elu: 0.25, cpuUs: 1200 },
    { t: 'logs', lines: [{ time: 1, level: 'warn', stream: 'stderr', requestId: 'r-1', message: 'm' }], dropped: 2 },
    { t: 'drained' }
  ]
  for (const message of valid) assert.deepEqual(check(message), { ok: true, message })
  assert.deepEqual(check({ t: 'ready', loadMs: 1, extra: { deep: 1 } }), { ok: true, message: { t: 'ready', loadMs: 1 } })
})

test('garbage that is not a JSON object is a violation', () => {
  assert.equal(parseChildMessage(Buffer.from('{"t": "ready", loadMs')).ok, false)
  assert.equal(parseChildMessage(Buffer.from([0xff, 0xfe, 0x00])).ok, false)
  assert.match(problem(null), /must be an object/)
  assert.match(problem([1, 2]), /must be an object/)
  assert.match(problem('ready'), /must be an object/)
  assert.match(problem({ t: 'exec' }), /unknown message type "exec"/)
  assert.match(problem({ t: 5 }), /no string field t/)
  assert.match(problem({}), /no string field t/)
})

test('listening needs a secret of 64 lowercase hex characters', () => {
  assert.match(problem({ t: 'listening' }), /secret/)
  assert.match(problem({ t: 'listening', secret: 'AB'.repeat(32) }), /secret/)
  assert.match(problem({ t: 'listening', secret: SECRET + 'a' }), /secret/)
  assert.match(problem({ t: 'listening', secret: 42 }), /secret/)
  assert.match(problem({ t: 'listening', port: 8080 }), /secret/)
})

test('numbers are finite, in range and whole where they count', () => {
  assert.match(problem({ t: 'ready', loadMs: -1 }), /ready.loadMs must be between/)
  assert.match(problem({ t: 'ready', loadMs: '3' }), /ready.loadMs must be a finite number/)
  assert.match(problem({ t: 'ready' }), /ready.loadMs/)
  assert.match(problem({ t: 'pong', id: 1.5, elu: 0, cpuUs: 0 }), /pong.id must be a whole number/)
  assert.match(problem({ t: 'pong', id: -1, elu: 0, cpuUs: 0 }), /pong.id/)
  assert.match(problem({ t: 'pong', id: 1, elu: 1.01, cpuUs: 0 }), /pong.elu must be between 0 and 1/)
  assert.match(problem({ t: 'pong', id: 1, elu: null, cpuUs: 0 }), /pong.elu/)
  assert.match(problem({ t: 'pong', id: 1, elu: 0, cpuUs: -5 }), /pong.cpuUs/)
  assert.match(problem({ t: 'pong', id: 1, elu: 0 }), /pong.cpuUs/)
  assert.match(problem({ t: 'logs', lines: [], dropped: 0.5 }), /logs.dropped/)
  assert.match(problem({ t: 'logs', lines: [] }), /logs.dropped/)
  // JSON has no NaN or Infinity, but 1e999 parses as Infinity.
  assert.match(parseChildMessage(Buffer.from('{"t":"ready","loadMs":1e999}')).ok ? '' : 'finite', /finite/)
})

test('strings are bounded: a load failure to 64 KiB, a log line to 16 KiB, a request id to 256', () => {
  assert.equal(check({ t: 'load-failed', reason: 'x'.repeat(64 * 1024) }).ok, true)
  assert.match(problem({ t: 'load-failed', reason: 'x'.repeat(64 * 1024 + 1) }), /load-failed.reason is 65537 characters long/)
  assert.match(problem({ t: 'load-failed', reason: { toString: 1 } }), /load-failed.reason must be a string/)
  assert.equal(check({ t: 'logs', lines: [{ ...line, message: 'x'.repeat(MAX_LOG_LINE_CHARS) }], dropped: 0 }).ok, true)
  assert.match(problem({ t: 'logs', lines: [{ ...line, message: 'x'.repeat(MAX_LOG_LINE_CHARS + 1) }], dropped: 0 }), /logs.lines\[0\].message is/)
  assert.match(problem({ t: 'logs', lines: [{ ...line, requestId: 'r'.repeat(257) }], dropped: 0 }), /requestId/)
})

test('each log line is checked: message a string, level and stream from their lists, time a number, requestId a string or null', () => {
  assert.match(problem({ t: 'logs', lines: [line, { ...line, message: 42 }], dropped: 0 }), /logs.lines\[1\].message must be a string/)
  assert.match(problem({ t: 'logs', lines: [{ ...line, level: null }], dropped: 0 }), /logs.lines\[0\].level must be one of/)
  assert.match(problem({ t: 'logs', lines: [{ ...line, level: 'fatal' }], dropped: 0 }), /level must be one of/)
  assert.match(problem({ t: 'logs', lines: [{ ...line, stream: 'stdin' }], dropped: 0 }), /stream must be one of/)
  assert.match(problem({ t: 'logs', lines: [{ ...line, time: 'now' }], dropped: 0 }), /time must be a finite number/)
  assert.match(problem({ t: 'logs', lines: [{ ...line, requestId: 7 }], dropped: 0 }), /requestId must be a string/)
  assert.match(problem({ t: 'logs', lines: [{ ...line, requestId: undefined }], dropped: 0 }), /requestId must be a string/)
  assert.match(problem({ t: 'logs', lines: ['hello'], dropped: 0 }), /logs.lines\[0\] must be an object/)
  assert.match(problem({ t: 'logs', lines: { 0: line }, dropped: 0 }), /logs.lines must be an array/)
})

test('a logs message holds at most 1000 lines', () => {
  assert.equal(check({ t: 'logs', lines: new Array(MAX_LOG_LINES_PER_MESSAGE).fill(line), dropped: 0 }).ok, true)
  assert.match(problem({ t: 'logs', lines: new Array(MAX_LOG_LINES_PER_MESSAGE + 1).fill(line), dropped: 0 }), /1001 lines, more than 1000/)
})

function frame (type: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(FRAME_HEADER_BYTES)
  head.writeUInt32BE(payload.length + FRAME_HEADER_BYTES - 4, 0)
  head[4] = type
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

function channel (): { socket: PassThrough, messages: ChildMessage[], violations: string[] } {
  const socket = new PassThrough()
  const messages: ChildMessage[] = []
  const violations: string[] = []
  // eslint-disable-next-line no-new
  new ControlChannel(socket, (m) => messages.push(m), (v) => violations.push(v))
  return { socket, messages, violations }
}

test('the channel hands over valid frames, split anywhere, and stops at the first violation, saying what was sent', () => {
  const { socket, messages, violations } = channel()
  const bytes = Buffer.concat([
    frame(FrameType.Control, 0, Buffer.from(JSON.stringify({ t: 'ready', loadMs: 1 }))),
    frame(FrameType.Control, 0, Buffer.from(JSON.stringify({ t: 'logs', lines: [{ ...line, level: null }], dropped: 0 }))),
    frame(FrameType.Control, 0, Buffer.from(JSON.stringify({ t: 'drained' })))
  ])
  for (let i = 0; i < bytes.length; i += 3) socket.write(bytes.subarray(i, i + 3))
  assert.deepEqual(messages, [{ t: 'ready', loadMs: 1 }])
  assert.equal(violations.length, 1)
  assert.match(violations[0], /level must be one of .*: "\{\\"t\\":\\"logs\\"/)
})

test('raw garbage, a frame of another type and an oversized frame are violations before anything is buffered', () => {
  const garbage = channel()
  garbage.socket.write(Buffer.from('hello, platform\n'))
  assert.equal(garbage.violations.length, 1)
  assert.match(garbage.violations[0], /larger than the limit|shorter than its own header/)
  assert.match(garbage.violations[0], /the bytes: "hello, platform\\n"$/, 'it says what was sent')

  const wrongType = channel()
  wrongType.socket.write(frame(FrameType.Request, 0, Buffer.from('x')))
  assert.match(wrongType.violations[0], /a frame of type 2 on stream 0/)

  const wrongStream = channel()
  wrongStream.socket.write(frame(FrameType.Control, 9, Buffer.from('{}')))
  assert.match(wrongStream.violations[0], /on stream 9/)

  const oversized = channel()
  const head = Buffer.alloc(FRAME_HEADER_BYTES)
  head.writeUInt32BE(MAX_CONTROL_PAYLOAD_BYTES + FRAME_HEADER_BYTES - 4 + 1, 0)
  head[4] = FrameType.Control
  oversized.socket.write(head)
  assert.match(oversized.violations[0], /larger than the limit of 1048576/)
  oversized.socket.write(frame(FrameType.Control, 0, Buffer.from(JSON.stringify({ t: 'drained' }))))
  assert.deepEqual(oversized.messages, [], 'nothing after a violation is read')
  assert.equal(oversized.violations.length, 1, 'one violation is told once')
})
