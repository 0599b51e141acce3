import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RequestTracking } from '../../src/runtime/request-tracking.js'

const tick = async (): Promise<void> => await new Promise((resolve) => setTimeout(resolve, 1))

test('the first line is attributed when one request is in flight, before any tracking cost was paid', async () => {
  const tracking = new RequestTracking()
  const seen = await tracking.run('r1', async () => { await tick(); return tracking.current() })
  tracking.end('r1')
  assert.equal(seen, 'r1')
})

test('the first line is not attributed when several requests are in flight', async () => {
  const tracking = new RequestTracking()
  const a = tracking.run('a', async () => { await tick(); return 'done' })
  const seen = await tracking.run('b', async () => { await tick(); return tracking.current() })
  await a
  assert.equal(seen, null)
})

test('once switched on, each request sees its own id across awaits, even interleaved', async () => {
  const tracking = new RequestTracking()
  tracking.current()
  const handler = async (): Promise<Array<string | null>> => {
    const before = tracking.current()
    await tick()
    return [before, tracking.current()]
  }
  const [a, b] = await Promise.all([tracking.run('a', handler), tracking.run('b', handler)])
  assert.deepEqual(a, ['a', 'a'])
  assert.deepEqual(b, ['b', 'b'])
  assert.equal(tracking.current(), null, 'outside any request')
})
