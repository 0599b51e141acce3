import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LineSplitter } from '../../src/instances/index.js'
import { FakeClock } from './fake-clock.js'

function splitter (max = 16, flushMs = 1000): { clock: FakeClock, lines: Array<[string, boolean]>, split: LineSplitter } {
  const clock = new FakeClock()
  const lines: Array<[string, boolean]> = []
  return { clock, lines, split: new LineSplitter((text, truncated) => lines.push([text, truncated]), clock, max, flushMs) }
}

test('lines are cut at newlines, across chunks, with a CR before the newline dropped', () => {
  const { lines, split, clock } = splitter()
  split.push(Buffer.from('one\ntw'))
  split.push(Buffer.from('o\r\nthree\n\n'))
  assert.deepEqual(lines, [['one', false], ['two', false], ['three', false], ['', false]])
  assert.equal(clock.pending, 0, 'no timer while nothing is held')
})

test('a line longer than the bound is handed over cut and marked, and the rest of it up to its newline is skipped', () => {
  const { lines, split } = splitter(8)
  split.push(Buffer.from('0123456789abcdef'))
  split.push(Buffer.from('ghij\nnext\n'))
  assert.deepEqual(lines, [['01234567', true], ['next', false]])
})

test('a line of exactly the bound is whole', () => {
  const { lines, split } = splitter(8)
  split.push(Buffer.from('01234567\n'))
  assert.deepEqual(lines, [['01234567', false]])
})

test('a partial line is flushed after the delay without a newline, and the timer starts with its first byte', () => {
  const { lines, split, clock } = splitter(16, 1000)
  split.push(Buffer.from('wait'))
  clock.advance(600)
  split.push(Buffer.from('ing'))
  clock.advance(399)
  assert.deepEqual(lines, [])
  clock.advance(1)
  assert.deepEqual(lines, [['waiting', false]])
  split.push(Buffer.from(' more\n'))
  assert.deepEqual(lines, [['waiting', false], [' more', false]])
  assert.equal(clock.pending, 0)
})

test('end hands over what is held', () => {
  const { lines, split, clock } = splitter()
  split.push(Buffer.from('tail'))
  split.end()
  assert.deepEqual(lines, [['tail', false]])
  assert.equal(clock.pending, 0)
})

test('600 MiB without a newline hold no more than the bound', () => {
  const { lines, split } = splitter(16 * 1024)
  const chunk = Buffer.alloc(1024 * 1024, 0x61)
  for (let i = 0; i < 600; i++) split.push(chunk)
  split.push(Buffer.from('\nafter\n'))
  assert.equal(lines.length, 2)
  assert.equal(lines[0][0].length, 16 * 1024)
  assert.equal(lines[0][1], true)
  assert.deepEqual(lines[1], ['after', false])
})
