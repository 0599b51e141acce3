// The failure-class table of docs/event-delivery.md, answer by answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { acknowledgedAll, DEFAULT_RELEASE_DELAY_MS, retryAfterMs, settlementsFor, START_FAILED_DELAY_MS, type DeliveryAnswer } from '../../src/dispatch/index.js'
import type { LeasedRecord } from '../../src/events/index.js'

function record (id: string, token = 1): LeasedRecord {
  return {
    id, kind: 'message', namespace: 'shop', queue: 'orders', token, attempt: 1, maxAttempts: 5, body: new Uint8Array(), bodyType: 'json',
    source: '/s', type: 't', subject: undefined, contentType: 'application/json', attributes: {}, createdAt: 0, leaseExpiresAt: 0
  }
}

const batch = [record('a'), record('b', 7), record('c')]
const answered = (status: number, body: unknown, retryAfter?: string): DeliveryAnswer => ({
  kind: 'answered',
  status,
  headers: { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
})
const problem = (status: number, code: string, detail: string): DeliveryAnswer => answered(status, { status, code, detail })

test('200 with results settles each message as its result says: ack, retry with its delay, dead with its reason', () => {
  const settlements = settlementsFor(batch, answered(200, { results: [
    { id: 'a', outcome: 'ack' },
    { id: 'b', outcome: 'retry', delayMs: 2500, error: 'stock service down' },
    { id: 'c', outcome: 'dead', reason: 'malformed order' }
  ] }), 'queue')
  assert.deepEqual(settlements, [
    { id: 'a', token: 1, outcome: 'succeeded' },
    { id: 'b', token: 7, outcome: 'failed', cause: 'retry', error: 'stock service down', retryAfterMs: 2500 },
    { id: 'c', token: 1, outcome: 'dead', reason: 'malformed order' }
  ])
})

test('{"acked":n} for all n messages succeeds every one, and acknowledgedAll tells it apart from every other answer without the table', () => {
  assert.deepEqual(settlementsFor(batch, answered(200, { acked: 3 }), 'queue').map((s) => s.outcome), ['succeeded', 'succeeded', 'succeeded'])
  assert.equal(acknowledgedAll(answered(200, { acked: 3 }), 3), true)
  assert.equal(acknowledgedAll(answered(200, { acked: 2 }), 3), false, 'a count that is not the batch\'s')
  assert.equal(acknowledgedAll(answered(500, { acked: 3 }), 3), false, 'not a 200')
  assert.equal(acknowledgedAll(answered(200, { acked: 3, results: [] }), 3), false, 'anything more is read by the table')
  assert.equal(acknowledgedAll({ kind: 'timed-out' }, 3), false)
  const wrong = settlementsFor(batch, answered(200, { acked: 2 }), 'queue')
  assert.deepEqual(wrong.map((s) => s.outcome), ['failed', 'failed', 'failed'], 'a wrong count fails every message counted')
})

test('a message the results leave out, or results that are not a list, fail counted: the handler\'s answer is broken', () => {
  const partial = settlementsFor(batch, answered(200, { results: [{ id: 'a', outcome: 'ack' }] }), 'queue')
  assert.deepEqual(partial.map((s) => s.outcome), ['succeeded', 'failed', 'failed'])
  assert.deepEqual(partial[1], { id: 'b', token: 7, outcome: 'failed', cause: 'error', error: 'the queue handler\'s answer named no outcome for this message' })
  assert.deepEqual(settlementsFor(batch, answered(200, 'not json'), 'queue').map((s) => s.outcome), ['failed', 'failed', 'failed'])
  assert.deepEqual(settlementsFor(batch, answered(200, { results: 'all fine' }), 'queue').map((s) => s.outcome), ['failed', 'failed', 'failed'])
  assert.equal((settlementsFor([record('a')], answered(200, { results: [{ id: 'a', outcome: 'maybe' }] }), 'queue')[0] as { error: string }).error, 'the handler\'s answer had an unknown outcome "maybe"')
})

test('a scheduled firing answered 200 {"outcome":"ack"} (or an empty body) succeeds', () => {
  assert.deepEqual(settlementsFor([record('f')], answered(200, { outcome: 'ack' }), 'scheduled'), [{ id: 'f', token: 1, outcome: 'succeeded' }])
  assert.deepEqual(settlementsFor([record('f')], answered(200, ''), 'scheduled'), [{ id: 'f', token: 1, outcome: 'succeeded' }])
})

test('5xx from the handler, a crashed instance and a timeout fail every message counted, with the problem\'s detail', () => {
  assert.deepEqual(settlementsFor([record('a')], problem(500, 'ROOST_E_HANDLER', 'boom'), 'queue'), [{ id: 'a', token: 1, outcome: 'failed', cause: 'error', error: 'boom', status: 500 }])
  assert.deepEqual(settlementsFor([record('a')], problem(500, 'ROOST_E_NO_HANDLER', 'no queue handler'), 'queue')[0], { id: 'a', token: 1, outcome: 'failed', cause: 'error', error: 'no queue handler', status: 500 })
  assert.equal((settlementsFor([record('a')], problem(502, 'ROOST_E_INSTANCE_CRASHED', 'exited'), 'queue')[0] as { cause: string }).cause, 'crashed')
  assert.equal((settlementsFor([record('a')], problem(504, 'ROOST_E_TIMEOUT', 'late'), 'scheduled')[0] as { cause: string }).cause, 'timeout')
  assert.deepEqual(settlementsFor([record('a')], answered(500, '<html>'), 'queue')[0], { id: 'a', token: 1, outcome: 'failed', cause: 'error', error: 'HTTP 500', status: 500 })
  assert.deepEqual(settlementsFor([record('a')], { kind: 'timed-out' }, 'queue')[0], { id: 'a', token: 1, outcome: 'failed', cause: 'timeout', error: 'no answer within the function\'s timeout' })
})

test('429 and 503 from the gateway release every message without an attempt, after the Retry-After', () => {
  for (const status of [429, 503]) {
    assert.deepEqual(settlementsFor(batch, problem(status, 'ROOST_E_RATE_LIMITED', 'slow down'), 'queue').map((s) => [s.outcome, (s as { delayMs?: number }).delayMs]),
      [['released', DEFAULT_RELEASE_DELAY_MS], ['released', DEFAULT_RELEASE_DELAY_MS], ['released', DEFAULT_RELEASE_DELAY_MS]])
  }
  assert.deepEqual(settlementsFor([record('a')], answered(503, { code: 'ROOST_E_BREAKER_OPEN', detail: 'open' }, '7'), 'queue'), [{ id: 'a', token: 1, outcome: 'released', reason: 'drained', delayMs: 7000 }])
})

test('a function that cannot start, or is not routed yet, is released: the message is not at fault', () => {
  assert.deepEqual(settlementsFor([record('a')], problem(502, 'ROOST_E_START_FAILED', 'load failed'), 'queue'), [{ id: 'a', token: 1, outcome: 'released', reason: 'drained', delayMs: START_FAILED_DELAY_MS }])
  assert.deepEqual(settlementsFor([record('a')], problem(404, 'ROOST_E_ROUTE_NOT_FOUND', 'no function'), 'queue'), [{ id: 'a', token: 1, outcome: 'released', reason: 'drained', delayMs: DEFAULT_RELEASE_DELAY_MS }])
})

test('a stop of the platform releases without an attempt; an unreachable gateway too, a moment later', () => {
  assert.deepEqual(settlementsFor([record('a')], { kind: 'aborted' }, 'queue'), [{ id: 'a', token: 1, outcome: 'released', reason: 'stopped' }])
  assert.deepEqual(settlementsFor([record('a')], { kind: 'unreachable', error: 'ECONNREFUSED' }, 'queue'), [{ id: 'a', token: 1, outcome: 'released', reason: 'stopped', delayMs: DEFAULT_RELEASE_DELAY_MS }])
})

test('Retry-After is read in whole seconds; anything else is absent', () => {
  assert.equal(retryAfterMs('3'), 3000)
  assert.equal(retryAfterMs(' 0 '), 0)
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT'), undefined)
  assert.equal(retryAfterMs(undefined), undefined)
})

test('an invocation\'s response is its result, 4xx included (the caller\'s request was served), without framing headers', () => {
  const answer: DeliveryAnswer = { kind: 'answered', status: 404, headers: { 'content-type': 'text/plain', 'content-length': '9', connection: 'keep-alive', 'x-app': '1' }, body: Buffer.from('not found') }
  assert.deepEqual(settlementsFor([record('call')], answer, 'invocation'), [{
    id: 'call', token: 1, outcome: 'succeeded', response: { status: 404, headers: { 'content-type': 'text/plain', 'x-app': '1' }, body: Buffer.from('not found') }
  }])
})

test('an invocation answered 5xx fails counted; a 503 of the function itself too, but the gateway\'s own 503 releases', () => {
  assert.deepEqual(settlementsFor([record('call')], answered(500, 'oops'), 'invocation'), [{ id: 'call', token: 1, outcome: 'failed', cause: 'error', error: 'HTTP 500', status: 500 }])
  assert.equal(settlementsFor([record('call')], answered(503, { code: 'MY_APP_DOWN', detail: 'maintenance' }), 'invocation')[0]?.outcome, 'failed')
  assert.equal(settlementsFor([record('call')], answered(503, { code: 'ROOST_E_NOT_READY', detail: 'no instance' }, '3'), 'invocation')[0]?.outcome, 'released')
  assert.equal(settlementsFor([record('call')], answered(429, { code: 'ROOST_E_RATE_LIMITED', detail: 'limit' }), 'invocation')[0]?.outcome, 'released')
})
