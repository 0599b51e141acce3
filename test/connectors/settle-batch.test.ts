// Settlements made in one turn leave in one call, in order, each answered with
// its own result; a failed call fails every settlement it carried.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SettleBatch } from '../../src/connectors/settle-batch.js'

describe('SettleBatch', () => {
  test('what is added in one turn is sent in one call, each answered with its result', async () => {
    const calls: number[][] = []
    const batch = new SettleBatch<number, string>(async (items) => {
      calls.push([...items])
      return items.map((n) => `done ${n}`)
    }, 100)
    const answers = await Promise.all([1, 2, 3].map((n) => batch.add(n)))
    assert.deepEqual(answers, ['done 1', 'done 2', 'done 3'])
    assert.deepEqual(calls, [[1, 2, 3]])
    // A later turn is a call of its own.
    assert.equal(await batch.add(4), 'done 4')
    assert.deepEqual(calls, [[1, 2, 3], [4]])
  })

  test('no call carries more than max', async () => {
    const calls: number[][] = []
    const batch = new SettleBatch<number, number>(async (items) => {
      calls.push([...items])
      return items
    }, 2)
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((n) => batch.add(n))), [1, 2, 3, 4, 5])
    assert.deepEqual(calls, [[1, 2], [3, 4], [5]])
  })

  test('a call that fails rejects every settlement in it, and the next turn starts afresh', async () => {
    let fail = true
    const batch = new SettleBatch<number, number>(async (items) => {
      if (fail) throw new Error('server gone')
      return items
    }, 10)
    const outcomes = await Promise.allSettled([batch.add(1), batch.add(2)])
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected'])
    fail = false
    assert.equal(await batch.add(3), 3)
  })

  test('addMany: its items ride in the turn\'s calls with the others, in order, and come back together', async () => {
    const calls: number[][] = []
    const batch = new SettleBatch<number, number>(async (items) => {
      calls.push([...items])
      return items.map((n) => n * 10)
    }, 4)
    const [one, many, other] = await Promise.all([batch.add(1), batch.addMany([2, 3, 4, 5, 6]), batch.add(7)])
    assert.equal(one, 10)
    assert.deepEqual(many, [20, 30, 40, 50, 60])
    assert.equal(other, 70)
    assert.deepEqual(calls, [[1, 2, 3, 4], [5, 6, 7]])
    assert.deepEqual(await batch.addMany([]), [])
    assert.deepEqual(calls.length, 2, 'nothing to send, no call')
  })

  test('addMany across calls: one that fails rejects the whole addMany, and the settlements of the other call stand', async () => {
    const batch = new SettleBatch<number, number>(async (items) => {
      if (items.includes(5)) throw new Error('server gone')
      return items
    }, 4)
    const outcomes = await Promise.allSettled([batch.add(1), batch.addMany([2, 3, 4, 5]), batch.add(6)])
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'rejected'])
  })

  test('an answer with too few results rejects the settlements it left out', async () => {
    const batch = new SettleBatch<number, number>(async () => [7], 10)
    const outcomes = await Promise.allSettled([batch.add(1), batch.add(2)])
    assert.deepEqual(outcomes[0], { status: 'fulfilled', value: 7 })
    assert.equal(outcomes[1]?.status, 'rejected')
  })
})
