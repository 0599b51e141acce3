import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IdTable, MAX_ID } from '../../src/wire/index.js'

/** A seeded generator, so a failure names the case that failed. */
function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 0x100000000
  }
}

function assertSame (table: IdTable<string>, model: Map<number, string>, probes: number[], where: string): void {
  assert.equal(table.size, model.size, `${where}: size`)
  for (const id of probes) {
    assert.equal(table.get(id), model.get(id), `${where}: get(${id})`)
    assert.equal(table.has(id), model.has(id), `${where}: has(${id})`)
  }
  assert.deepEqual(table.entries().sort((a, b) => a[0] - b[0]), [...model].sort((a, b) => a[0] - b[0]), `${where}: entries`)
}

test('an IdTable holds what a Map holds, under streams opened in order and closed in any order', () => {
  const next = random(11)
  const table = new IdTable<string>()
  const model = new Map<number, string>()
  let nextId = 1
  for (let round = 0; round < 20000; round++) {
    // Mostly what a connection does: open the next id, close one of the open ones.
    if (model.size === 0 || next() < 0.52) {
      const id = nextId++
      table.set(id, `v${id}`)
      model.set(id, `v${id}`)
    } else {
      const open = [...model.keys()]
      const id = open[Math.floor(next() * open.length)]
      assert.equal(table.delete(id), true, `round ${round}: delete(${id})`)
      model.delete(id)
    }
    if (round % 97 === 0) assertSame(table, model, [0, nextId, nextId - 1, ...[...model.keys()].slice(0, 5)], `round ${round}`)
  }
  assertSame(table, model, [...model.keys(), nextId], 'end')
})

test('an IdTable keeps entries whose probes wrap past the end of the table and collide at one slot', () => {
  const table = new IdTable<string>()
  const model = new Map<number, string>()
  // Ids 16 apart share a home slot in a table of 16 or 32; 15, 31, 47 wrap around its end.
  const ids = [15, 31, 47, 63, 1, 17, 33]
  for (const id of ids) {
    table.set(id, `v${id}`)
    model.set(id, `v${id}`)
  }
  for (const id of [31, 1, 15, 63]) {
    assert.equal(table.delete(id), true)
    model.delete(id)
    assertSame(table, model, ids, `after delete(${id})`)
  }
  assert.equal(table.delete(31), false, 'a second delete finds nothing')
})

test('an IdTable replaces the value of an id it holds, and forgets everything on clear', () => {
  const table = new IdTable<string>()
  table.set(5, 'a')
  table.set(5, 'b')
  assert.equal(table.size, 1)
  assert.equal(table.get(5), 'b')
  for (let id = 1; id <= 100; id++) table.set(id, `v${id}`)
  assert.equal(table.size, 100)
  table.clear()
  assert.equal(table.size, 0)
  assert.equal(table.get(5), undefined)
  assert.deepEqual(table.list(), [])
  table.set(7, 'again')
  assert.deepEqual(table.list(), ['again'])
})

test('an IdTable refuses ids that are not positive 31-bit integers, and finds nothing at 0', () => {
  const table = new IdTable<string>()
  for (const id of [0, -1, 1.5, 0x80000000, Number.NaN]) assert.throws(() => table.set(id, 'x'), RangeError, String(id))
  assert.equal(table.size, 0)
  assert.equal(table.get(0), undefined)
  assert.equal(table.has(0), false)
  assert.equal(table.delete(0), false)
  table.set(0x7fffffff, 'last')
  assert.equal(table.get(0x7fffffff), 'last')
})

test('an IdTable under endless churn keeps the size its most open streams needed: nothing grows, nothing is reallocated', () => {
  const table = new IdTable<number>()
  const open: number[] = []
  let nextId = 1
  // A connection with 20 requests open at a time, a million requests long.
  for (let i = 0; i < 20; i++) {
    table.set(nextId, nextId)
    open.push(nextId++)
  }
  const capacity = table.capacity
  assert.equal(capacity, 64, 'twenty open take a table of 64 (at most half full)')
  for (let round = 0; round < 1_000_000; round++) {
    const at = round % open.length
    assert.equal(table.delete(open[at] as number), true)
    table.set(nextId, nextId)
    open[at] = nextId++
  }
  assert.equal(table.capacity, capacity)
  assert.equal(table.size, 20)
  for (const id of open) assert.equal(table.get(id), id)
})

test('freeIdAfter numbers in order, skips ids still held, and comes round to 1 after MAX_ID', () => {
  const table = new IdTable<string>()
  assert.equal(table.freeIdAfter(0), 1)
  assert.equal(table.freeIdAfter(41), 42)
  table.set(2, 'held')
  table.set(3, 'held')
  assert.equal(table.freeIdAfter(1), 4, 'an id still held keeps it')
  assert.equal(table.freeIdAfter(MAX_ID), 1)
  table.set(1, 'held')
  assert.equal(table.freeIdAfter(MAX_ID - 1), MAX_ID)
  assert.equal(table.freeIdAfter(MAX_ID), 4, 'round again, past what is held')
})
