import { test } from 'node:test'
import assert from 'node:assert/strict'
import { boundLine, LogCapture } from '../../src/runtime/log-capture.js'
import { MAX_LOG_BATCH_LINES, MAX_LOG_LINE_BYTES, type LogsMessage } from '../../src/runtime/protocol.js'

test('a flush sends at most 1000 lines per message, and the dropped count once', () => {
  const sent: LogsMessage[] = []
  const capture = new LogCapture((message) => sent.push(message))
  for (let i = 0; i < 12_000; i++) capture.write('info', 'console', 'r1', [`line ${i}`])
  capture.flush()
  assert.deepEqual(sent.map((m) => m.lines.length), [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000])
  assert.deepEqual(sent.map((m) => m.dropped), [2000, 0, 0, 0, 0, 0, 0, 0, 0, 0])
  assert.ok(sent.every((m) => m.lines.length <= MAX_LOG_BATCH_LINES))
  assert.equal(sent[9].lines[999].message, 'line 9999')
})

test('a batch whose JSON would not fit a control frame is split', () => {
  const sent: LogsMessage[] = []
  const capture = new LogCapture((message) => sent.push(message))
  // Control characters are six bytes each in JSON: 900 lines of them are ~86 MiB of text.
  const nasty = '\u0001'.repeat(16 * 1024)
  for (let i = 0; i < 900; i++) capture.write('warn', 'console', null, [nasty])
  capture.flush()
  assert.equal(sent.reduce((sum, m) => sum + m.lines.length, 0), 900)
  for (const message of sent) assert.ok(Buffer.byteLength(JSON.stringify(message)) <= 1024 * 1024, 'each message fits a 1 MiB frame')
})

test('a line is cut to 16 KiB of UTF-8, the mark included, even with multi-byte characters', () => {
  for (const text of ['a'.repeat(100_000), 'é'.repeat(20_000), '€'.repeat(10_000), '😀'.repeat(9000), 'x' + '😀'.repeat(9000), 'xx' + '😀'.repeat(9000), 'xxx' + '😀'.repeat(9000), `${'a'.repeat(16_383)}€`]) {
    const cut = boundLine(text)
    assert.ok(Buffer.byteLength(cut) <= MAX_LOG_LINE_BYTES, `${Buffer.byteLength(cut)} bytes`)
    assert.ok(cut.endsWith('…[truncated]'))
    assert.ok(!cut.includes('\ufffd'), 'no character cut in half')
  }
  assert.equal(boundLine('short'), 'short')
  const exact = 'b'.repeat(MAX_LOG_LINE_BYTES)
  assert.equal(boundLine(exact), exact)
})

test('while the channel is backed up lines wait, past the bound they are dropped and counted', () => {
  const sent: LogsMessage[] = []
  let open = false
  const capture = new LogCapture((message) => sent.push(message), () => open)
  for (let i = 0; i < 10_500; i++) capture.write('info', 'console', null, [`line ${i}`])
  capture.flush()
  assert.equal(sent.length, 0, 'nothing sent into a backed-up channel')
  open = true
  capture.flush()
  assert.equal(sent.reduce((sum, m) => sum + m.lines.length, 0), 10_000)
  assert.equal(sent[0].dropped, 500)
})
