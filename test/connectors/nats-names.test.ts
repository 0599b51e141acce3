// What a NATS queue trigger names: a stream, a consumer and a subject filter
// JetStream takes, and the subject Roost publishes to.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ValidationError } from '../../src/errors/index.js'
import { natsNames, publishSubject, subjectFilterProblem } from '../../src/connectors/nats-names.js'

test('a binding\'s stream, consumer and subject are taken as they are', () => {
  assert.deepEqual(natsNames({ stream: 'ORDERS', consumer: 'fulfil', subject: 'orders.>' }), { stream: 'ORDERS', consumer: 'fulfil', subject: 'orders.>' })
})

test('each missing or malformed name is a problem of its own, in one ValidationError', () => {
  assert.throws(() => natsNames({ stream: 'ORD.ERS', consumer: '', subject: 'orders..new' }), (err: unknown) => {
    assert.ok(err instanceof ValidationError)
    assert.deepEqual(err.errors.map((p) => p.field), ['stream', 'consumer', 'subject'])
    return true
  })
  for (const stream of ['a b', 'a*', 'a>', 'a/b', 'a\\b']) assert.throws(() => natsNames({ stream, consumer: 'c', subject: 's' }), ValidationError)
})

test('a publish needs no consumer', () => {
  assert.deepEqual(natsNames({ stream: 'ORDERS', subject: 'orders' }, { consumer: false }), { stream: 'ORDERS', consumer: '', subject: 'orders' })
})

test('subject filters: wildcards are whole tokens, > only last, no empty tokens or white space', () => {
  for (const subject of ['orders', 'orders.>', 'orders.*.new', '*', '>', 'roost-test-1.a_b.>']) assert.equal(subjectFilterProblem(subject), undefined, subject)
  for (const subject of ['', 'orders.', '.orders', 'orders..new', 'orders.>.new', 'orders.n*', 'or>ders', 'orders new', 'orders\tnew']) {
    assert.equal(typeof subjectFilterProblem(subject), 'string', subject)
  }
})

test('Roost publishes to the filter with each wildcard token as `roost`', () => {
  assert.equal(publishSubject('orders'), 'orders')
  assert.equal(publishSubject('orders.>'), 'orders.roost')
  assert.equal(publishSubject('orders.*.new'), 'orders.roost.new')
})
