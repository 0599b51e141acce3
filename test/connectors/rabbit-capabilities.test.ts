// The RabbitMQ connector's check of its server, from the handshake's server
// properties: RabbitMQ 3.8 or later (quorum queues), and a warning for each
// version whose dead-lettering or delivery count changes what Roost promises.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BrokerUnsupportedError } from '../../src/errors/index.js'
import { atLeast, parseVersion, rabbitCapabilities } from '../../src/connectors/rabbit-capabilities.js'

test('a version is read from its leading digits', () => {
  assert.deepEqual(parseVersion('3.10.8'), [3, 10, 8])
  assert.deepEqual(parseVersion('4.0'), [4, 0, 0])
  assert.deepEqual(parseVersion('3.13.0-rc.2'), [3, 13, 0])
  assert.deepEqual(parseVersion(Buffer.from('3.12.1')), [3, 12, 1])
  assert.equal(parseVersion('unknown'), undefined)
  assert.equal(parseVersion(undefined), undefined)
  assert.equal(parseVersion(42), undefined)
})

test('versions compare part by part, not as text', () => {
  assert.equal(atLeast([3, 10, 0], [3, 8, 0]), true)
  assert.equal(atLeast([3, 8, 0], [3, 8, 0]), true)
  assert.equal(atLeast([3, 7, 28], [3, 8, 0]), false)
  assert.equal(atLeast([4, 0, 0], [3, 10, 0]), true)
})

test('RabbitMQ 3.10 to 4.2 is named with its version, with no warnings', () => {
  for (const version of ['3.10.8', '3.12.14', '3.13.7', '4.2.1']) {
    const { capabilities, features } = rabbitCapabilities({ product: 'RabbitMQ', version })
    assert.deepEqual(capabilities, { server: `rabbitmq ${version}`, warnings: [] })
    assert.equal(features.atLeastOnceDeadLettering, true)
  }
})

test('before 3.10, dead-lettering is at most once: a warning, and the topology leaves the strategy out', () => {
  const { capabilities, features } = rabbitCapabilities({ product: 'RabbitMQ', version: '3.9.29' })
  assert.equal(capabilities.warnings.length, 1)
  assert.match(capabilities.warnings[0] as string, /at most once/)
  assert.equal(features.atLeastOnceDeadLettering, false)
})

test('from 4.3, a return is counted only when the broker takes it for a failure: a warning says what that changes', () => {
  const { capabilities } = rabbitCapabilities({ product: 'RabbitMQ', version: '4.3.0' })
  assert.equal(capabilities.warnings.length, 1)
  assert.match(capabilities.warnings[0] as string, /only when it takes it for a failed delivery/)
})

test('a server older than 3.8 is refused with BrokerUnsupportedError naming the version found and the one needed', () => {
  for (const version of ['3.7.28', '3.6.0', '2.8.7']) {
    assert.throws(() => rabbitCapabilities({ product: 'RabbitMQ', version }), (err: unknown) => {
      assert.ok(err instanceof BrokerUnsupportedError)
      assert.equal(err.code, 'ROOST_E_BROKER_UNSUPPORTED')
      assert.ok(err.message.includes(`rabbitmq ${version}`) && err.message.includes('3.8'), err.message)
      return true
    })
  }
})

test('a server that is not RabbitMQ, or says no version, is refused too', () => {
  assert.throws(() => rabbitCapabilities({ product: 'LavinMQ', version: '1.2.0' }), (err: unknown) => {
    assert.ok(err instanceof BrokerUnsupportedError)
    assert.match(err.message, /LavinMQ 1\.2\.0/)
    return true
  })
  assert.throws(() => rabbitCapabilities({ product: 'RabbitMQ' }), BrokerUnsupportedError)
  assert.throws(() => rabbitCapabilities(undefined), BrokerUnsupportedError)
})
