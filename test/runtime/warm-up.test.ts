import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Invoker } from '../../src/runtime/invoke.js'
import { LogCapture } from '../../src/runtime/log-capture.js'
import { RequestTracking } from '../../src/runtime/request-tracking.js'
import { warmUp } from '../../src/runtime/warm-up.js'
import type { LogsMessage } from '../../src/runtime/protocol.js'

test('the warm-up serves one request through the whole path and leaves the invoker as it found it', async (t) => {
  const sent: LogsMessage[] = []
  const capture = new LogCapture((message) => sent.push(message))
  const invoker = new Invoker(capture, new RequestTracking())
  const server = createServer(invoker.handle)
  t.after(() => server.close())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  await warmUp(port, invoker)

  assert.equal(invoker.inflight, 0)
  capture.flush()
  assert.deepEqual(sent, [], 'nothing logged')
  const response = await fetch(`http://127.0.0.1:${port}/`)
  assert.equal(response.status, 503, 'no handler until a bundle is loaded')
  assert.equal((await response.json() as { code: string }).code, 'ROOST_E_NOT_LOADED')
})
