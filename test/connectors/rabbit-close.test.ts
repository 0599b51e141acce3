// Closing an amqplib channel or connection ends when its close() settles or
// its 'close' event comes, whichever is first: amqplib's close() never
// settles when the connection dies before the broker answers.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import { closedEither } from '../../src/connectors/rabbit-close.js'

const never = (): Promise<void> => new Promise(() => {})

test('a close that never settles ends with the emitter\'s close event', async () => {
  const emitter = new EventEmitter()
  setTimeout(() => emitter.emit('close', new Error('Unexpected close')), 10)
  await closedEither(emitter, never)
  assert.equal(emitter.listenerCount('close'), 0, 'the listener is removed')
})

test('a close that settles ends the wait, and one that fails is no error', async () => {
  const emitter = new EventEmitter()
  await closedEither(emitter, async () => {})
  await closedEither(emitter, async () => { throw new Error('Channel closed') })
  await closedEither(undefined, () => { throw new Error('thrown at once') })
  assert.equal(emitter.listenerCount('close'), 0)
})

test('an error event while closing ends the wait too', async () => {
  const emitter = new EventEmitter()
  setTimeout(() => emitter.emit('error', new Error('socket hang up')), 10)
  await closedEither(emitter, never)
})
