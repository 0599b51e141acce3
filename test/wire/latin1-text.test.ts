import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readLatin1, writeLatin1 } from '../../src/wire/index.js'

/** A seeded generator, so a failure names the case that failed. */
function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 0x100000000
  }
}

test('readLatin1 reads what toString("latin1") reads, for every length around the short limit and every byte', () => {
  const next = random(7)
  for (let round = 0; round < 20000; round++) {
    const length = Math.floor(next() * 90)
    const buf = Buffer.alloc(length + 8)
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(next() * 256)
    const start = Math.floor(next() * 8)
    const end = start + length
    assert.equal(readLatin1(buf, start, end), buf.toString('latin1', start, end), `round ${round}`)
  }
})

test('readLatin1 hands back the string it made before for the same bytes, wherever they are', () => {
  const first = readLatin1(Buffer.from('GET /x HTTP/1.1\r\ncontent-type: text/plain'), 17, 29)
  assert.equal(first, 'content-type')
  const again = readLatin1(Buffer.from('..content-type..'), 2, 14)
  assert.equal(again, 'content-type')
  // The same object: V8 keeps its hash, and the scavenger has nothing new to copy.
  assert.ok(Object.is(first, again))
})

test('readLatin1 never returns a remembered string for other bytes of the same slot', () => {
  // Strings that differ only inside, where the slot's hash does not look, share a slot.
  const a = Buffer.from('x-aaaaaaaaaaaa-1')
  const b = Buffer.from('x-aaabaaaaaaaa-1')
  assert.equal(readLatin1(a, 0, a.length), 'x-aaaaaaaaaaaa-1')
  assert.equal(readLatin1(b, 0, b.length), 'x-aaabaaaaaaaa-1')
  assert.equal(readLatin1(a, 0, a.length), 'x-aaaaaaaaaaaa-1')
  assert.equal(readLatin1(Buffer.alloc(0), 0, 0), '')
})

test('writeLatin1 writes what buf.write(…, "latin1") writes, short and long, characters past 0xff included', () => {
  const next = random(11)
  for (let round = 0; round < 5000; round++) {
    const length = Math.floor(next() * 100)
    let text = ''
    for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(next() * (next() < 0.9 ? 256 : 0x3000)))
    const ours = Buffer.alloc(length + 4, 0xaa)
    const node = Buffer.alloc(length + 4, 0xaa)
    assert.equal(writeLatin1(ours, 2, text), length)
    node.write(text, 2, 'latin1')
    assert.deepEqual(ours, node, `round ${round}`)
  }
})
