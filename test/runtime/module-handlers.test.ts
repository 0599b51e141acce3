import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveHandlers } from '../../src/runtime/module-handlers.js'

test('a function is the fetch handler, alone', () => {
  const fetch = (): Response => new Response('hi')
  assert.deepEqual(resolveHandlers(fetch), { fetch, queue: null, scheduled: null })
})

test('an object gives any of fetch, queue and scheduled, each bound to it', async () => {
  const module = {
    prefix: 'seen by',
    queue (this: { prefix: string }) { return `${this.prefix} queue` },
    scheduled (this: { prefix: string }) { return `${this.prefix} scheduled` }
  }
  const handlers = resolveHandlers(module)
  assert.equal(handlers.fetch, null)
  assert.equal((handlers.queue as unknown as () => string)(), 'seen by queue')
  assert.equal((handlers.scheduled as unknown as () => string)(), 'seen by scheduled')
  assert.notEqual(resolveHandlers({ fetch () {} }).fetch, null)
})

test('a module with none of them, or one that is not a function, does not load', () => {
  assert.throws(() => resolveHandlers(42), /default export must be a function .* got number/)
  assert.throws(() => resolveHandlers(null), /got null/)
  assert.throws(() => resolveHandlers({ handler () {} }), /an object with none of them/)
  assert.throws(() => resolveHandlers({ fetch () {}, queue: 'orders' }), { message: 'the module\'s default export has a queue that is not a function (string)' })
})
