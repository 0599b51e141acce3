import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RequestTracking } from '../../src/runtime/request-tracking.js'

const tick = async (): Promise<void> => await new Promise((resolve) => setTimeout(resolve, 1))

test('the very first lines of concurrent requests each carry their own id, across awaits', async () => {
  const tracking = new RequestTracking()
  const handler = async (): Promise<Array<string | null>> => {
    const before = tracking.current()
    await tick()
    const between = tracking.current()
    await Promise.resolve()
    return [before, between, tracking.current()]
  }
  const [a, b] = await Promise.all([tracking.run('a', handler), tracking.run('b', handler)])
  assert.deepEqual(a, ['a', 'a', 'a'])
  assert.deepEqual(b, ['b', 'b', 'b'])
  assert.equal(tracking.current(), null, 'outside any request')
})

test('a timer a request starts is attributed to it', async () => {
  const tracking = new RequestTracking()
  const seen = await tracking.run('r1', () => new Promise<string | null>((resolve) => setTimeout(() => resolve(tracking.current()), 1)))
  assert.equal(seen, 'r1')
})
