import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Invoker } from '../../src/runtime/invoke.js'
import { LogCapture } from '../../src/runtime/log-capture.js'
import { RequestTracking } from '../../src/runtime/request-tracking.js'
import { warmUp } from '../../src/runtime/warm-up.js'
import type { LogsMessage } from '../../src/runtime/protocol.js'

test('the warm-up serves its requests in-process and leaves the invoker as it found it', async () => {
  const sent: LogsMessage[] = []
  const capture = new LogCapture((message) => sent.push(message))
  const invoker = new Invoker(capture, new RequestTracking())
  let served = 0
  const serve = invoker.serve.bind(invoker)
  invoker.serve = (...args) => { served++; serve(...args) }

  await warmUp(invoker)

  assert.equal(served, 2, 'the plain and the heavy path')
  assert.equal(invoker.inflight, 0)
  assert.equal(invoker.loaded, false, 'no handler until a bundle is loaded')
  capture.flush()
  assert.deepEqual(sent, [], 'nothing logged: neither warm-up request failed')
})
