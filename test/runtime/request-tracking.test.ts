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

test('lazy (HTTP mode): the synchronous part is always attributed, and tracking is exact from the first line on', async () => {
  const tracking = new RequestTracking({ lazy: true })
  const handler = async (): Promise<Array<string | null>> => {
    const before = tracking.current()
    await tick()
    return [before, tracking.current()]
  }
  // Two requests in flight before any line: after an await, which one wrote cannot be known.
  const a = tracking.run('a', handler)
  const b = tracking.run('b', handler)
  assert.deepEqual(await a, ['a', null])
  assert.deepEqual(await b, ['b', null])
  tracking.end('a')
  tracking.end('b')
  // From now on tracking is on.
  const [c, d] = await Promise.all([tracking.run('c', handler), tracking.run('d', handler)])
  assert.deepEqual(c, ['c', 'c'])
  assert.deepEqual(d, ['d', 'd'])
})

test('lazy: a request alone in flight when tracking switches on keeps its id after its awaits', async () => {
  const tracking = new RequestTracking({ lazy: true })
  const seen = await tracking.run('only', async () => {
    await tick()
    return tracking.current()
  })
  tracking.end('only')
  assert.equal(seen, 'only')
  assert.equal(tracking.current(), null, 'nothing open, nothing attributed')
})
