import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readU16, readU32, writeU16, writeU32 } from '../../src/wire/big-endian.js'

test('readU16, readU32, writeU16 and writeU32 agree with Buffer\'s big-endian methods, edges included, at any offset', () => {
  const values32 = [0, 1, 255, 256, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]
  for (let i = 0; i < 2000; i++) values32.push(Math.floor(Math.random() * 0x100000000))
  for (const value of values32) {
    for (const at of [0, 1, 3]) {
      const ours = Buffer.alloc(8)
      const theirs = Buffer.alloc(8)
      writeU32(ours, at, value)
      theirs.writeUInt32BE(value, at)
      assert.deepEqual(ours, theirs, `writeU32 ${value} at ${at}`)
      assert.equal(readU32(theirs, at), value, `readU32 ${value} at ${at}`)
      const v16 = value & 0xffff
      writeU16(ours, at, v16)
      theirs.writeUInt16BE(v16, at)
      assert.deepEqual(ours, theirs, `writeU16 ${v16} at ${at}`)
      assert.equal(readU16(theirs, at), v16, `readU16 ${v16} at ${at}`)
    }
  }
})
