import { test } from 'node:test'
import assert from 'node:assert/strict'
import { entryIdBefore, entryTime } from '../../src/connectors/redis-entry.js'

test('entry ids order by their time, then their sequence, as numbers and not as text', () => {
  assert.equal(entryIdBefore('9-0', '10-0'), true)
  assert.equal(entryIdBefore('10-0', '9-0'), false)
  assert.equal(entryIdBefore('1733000000000-9', '1733000000000-10'), true)
  assert.equal(entryIdBefore('1733000000000-10', '1733000000000-9'), false)
  assert.equal(entryIdBefore('1733000000000-5', '1733000000000-5'), false)
  assert.equal(entryIdBefore('1733000000000-99', '1733000000001-0'), true)
  assert.equal(entryTime('1733000000123-4'), 1733000000123)
  assert.equal(entryTime('1733000000123'), 1733000000123, 'an id without its sequence')
  assert.equal(entryTime('-4'), 0)
  assert.equal(entryTime('17330x0000123-4'), 0, 'not digits')
  assert.equal(entryTime(''), 0)
})

test('entry ids order as their parts do as numbers, over ids of every length', () => {
  const part = (seed: number): string => String(Math.floor((seed % 1) * 10 ** (1 + Math.floor((seed * 7919) % 1 * 15))))
  let seed = 0.5
  const next = (): number => (seed = (seed * 9301 + 0.49297) % 1)
  for (let i = 0; i < 5000; i++) {
    const a = `${part(next())}-${part(next())}`
    const b = i % 3 === 0 ? `${a.split('-')[0]}-${part(next())}` : `${part(next())}-${part(next())}`
    const [ma, sa] = a.split('-').map(BigInt)
    const [mb, sb] = b.split('-').map(BigInt)
    const before = ma !== mb ? ma < mb : sa < sb
    assert.equal(entryIdBefore(a, b), before, `${a} before ${b}`)
  }
})
