import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BodyTooLargeError, RequestBody } from '../../src/runtime/request-body.js'

test('a bounded read takes a body up to its bound, whole', async () => {
  const body = new RequestBody(null)
  const read = body.readAll(8)
  body.push(Buffer.from('four'))
  body.push(Buffer.from('more'))
  body.end()
  assert.equal((await read).toString(), 'fourmore')
})

test('past its bound a read fails as soon as the excess arrives, and what comes after is dropped', async () => {
  const body = new RequestBody(null)
  const read = body.readAll(8)
  body.push(Buffer.from('four'))
  body.push(Buffer.from('and more'))
  await assert.rejects(read, (err: unknown) => err instanceof BodyTooLargeError && err.code === 'ROOST_E_PAYLOAD_TOO_LARGE' && err.message === 'the body is over 8 bytes')
  body.push(Buffer.alloc(4 * 1024 * 1024))
  body.end()
  assert.equal((await body.readAll()).length, 0, 'nothing of the rest is held')
})
