// The acknowledgements the NATS connector sends to a message's reply subject.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ACK, nak, term, TERM_REASON_LIMIT, WORKING } from '../../src/connectors/nats-acks.js'
import { takesTermReason } from '../../src/connectors/nats-capabilities.js'

test('ack and working are JetStream\'s +ACK and +WPI', () => {
  assert.equal(ACK, '+ACK')
  assert.equal(WORKING, '+WPI')
})

test('a NAK carries its delay in ns; no delay, or one that is no number, is a bare -NAK', () => {
  assert.equal(nak(300), '-NAK {"delay":300000000}')
  assert.equal(nak(0), '-NAK')
  assert.equal(nak(-5), '-NAK')
  assert.equal(nak(Number.NaN), '-NAK')
  assert.equal(nak(0.4), '-NAK')
  assert.equal(nak(Number.POSITIVE_INFINITY), '-NAK')
  assert.equal(nak(30 * 24 * 3600_000), `-NAK {"delay":${7 * 24 * 3600_000 * 1_000_000}}`, 'capped at the longest delay a record takes')
})

test('+TERM is bare for servers before 2.11, and carries the reason on one line after', () => {
  assert.equal(term('it can never succeed', false), '+TERM')
  assert.equal(term('it can never\r\nsucceed', true), '+TERM it can never succeed')
  assert.equal(term(' \n ', true), '+TERM')
  assert.equal(term('x'.repeat(1000), true), `+TERM ${'x'.repeat(TERM_REASON_LIMIT)}`)
  assert.equal(takesTermReason('2.9.10'), false)
  assert.equal(takesTermReason('2.10.22'), false)
  assert.equal(takesTermReason('2.11.0'), true)
  assert.equal(takesTermReason(undefined), false)
})
