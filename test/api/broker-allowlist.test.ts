// Which brokers a namespace token's triggers may name: only those the operator
// allowed, compared on scheme, host and port; a URL the stored function
// already has (the admin's) stays allowed.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { brokerAddress, brokerAllowlist, checkBrokerClaim, storedBrokerUrls } from '../../src/api/broker-allowlist.js'
import { ForbiddenError } from '../../src/errors/index.js'

function manifestWith (...queues: Array<Record<string, unknown>>): unknown {
  return { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: { triggers: queues.map((queue) => ({ queue })) } }
}

describe('brokerAddress', () => {
  test('scheme, host in lower case and port, the default port filled in', () => {
    assert.equal(brokerAddress('redis://Cache.Internal'), 'redis://cache.internal:6379')
    assert.equal(brokerAddress('redis://cache.internal:6379/2'), 'redis://cache.internal:6379')
    assert.equal(brokerAddress('nats://10.0.0.5'), 'nats://10.0.0.5:4222')
    assert.equal(brokerAddress('amqp://user:pw@rabbit/vhost'), 'amqp://rabbit:5672')
    assert.equal(brokerAddress('amqps://rabbit'), 'amqps://rabbit:5671')
    assert.equal(brokerAddress('not a url'), undefined)
    assert.equal(brokerAddress('localhost:6379'), undefined, 'no broker scheme')
    assert.equal(brokerAddress('http://127.0.0.1:6379'), undefined)
  })
})

describe('checkBrokerClaim', () => {
  const allowed = brokerAllowlist(['redis://127.0.0.1:6379', 'nats://nats.internal'])

  test('an allowed broker passes, whatever the path or default port', () => {
    checkBrokerClaim(manifestWith({ name: 'a', connector: 'redis', url: 'redis://127.0.0.1/3' }, { name: 'b', connector: 'nats', url: 'nats://nats.internal:4222' }), allowed, [])
  })

  test('another host, port or scheme is refused with 403 at its field', () => {
    for (const url of ['redis://127.0.0.1:6380', 'redis://localhost:6379', 'rediss://127.0.0.1:6379', 'amqp://127.0.0.1:6379']) {
      assert.throws(() => checkBrokerClaim(manifestWith({ name: 'ok', connector: 'redis', url: 'redis://127.0.0.1:6379' }, { name: 'x', connector: 'rabbitmq', url }), allowed, []), (err: unknown) => {
        assert.ok(err instanceof ForbiddenError)
        assert.equal(err.status, 403)
        assert.equal(err.field, 'spec.triggers[1].queue.url')
        assert.match(err.hint ?? '', /--allow-broker/)
        return true
      }, url)
    }
  })

  test('with nothing allowed every broker is refused; embedded triggers and crons never are', () => {
    const none = brokerAllowlist([])
    assert.throws(() => checkBrokerClaim(manifestWith({ name: 'x', connector: 'nats', url: 'nats://127.0.0.1:4222' }), none, []), ForbiddenError)
    checkBrokerClaim(manifestWith({ name: 'x' }, { name: 'y', connector: 'embedded' }), none, [])
    checkBrokerClaim({ spec: { triggers: [{ cron: { schedule: '* * * * *' } }] } }, none, [])
  })

  test('a URL the stored function already has passes: re-applying what the admin set is no new claim', () => {
    const stored = storedBrokerUrls({ triggers: [{ queue: { name: 'x', connector: 'nats', url: 'nats://127.0.0.1:4222' } }, { cron: {} }] })
    assert.deepEqual(stored, ['nats://127.0.0.1:4222'])
    checkBrokerClaim(manifestWith({ name: 'x', connector: 'nats', url: 'nats://127.0.0.1:4222' }), brokerAllowlist([]), stored)
  })

  test('a manifest that is not one is left to validation', () => {
    for (const bad of [null, 'text', { spec: null }, { spec: { triggers: 'x' } }, manifestWith({ name: 'x', connector: 'redis', url: 42 })]) checkBrokerClaim(bad, brokerAllowlist([]), [])
  })

  test('an allowed entry that is not a URL is refused at start', () => {
    assert.throws(() => brokerAllowlist(['127.0.0.1:6379 extra']), TypeError)
  })
})
