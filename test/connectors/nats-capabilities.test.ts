// The NATS connector's check of its server, from the INFO it sends: the
// version it needs, JetStream on, headers on, and the +TERM warning.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BrokerUnsupportedError } from '../../src/errors/index.js'
import { natsCapabilities, parseVersion } from '../../src/connectors/nats-capabilities.js'

test('versions are read as major, minor, patch; anything else is no version', () => {
  assert.deepEqual(parseVersion('2.9.10'), [2, 9, 10])
  assert.deepEqual(parseVersion('2.10.0-beta.1'), [2, 10, 0])
  assert.deepEqual(parseVersion('v2.11.3'), [2, 11, 3])
  assert.deepEqual(parseVersion('3.0'), [3, 0, 0])
  assert.equal(parseVersion('unstable'), undefined)
  assert.equal(parseVersion(undefined), undefined)
})

test('2.9 and 2.10 with JetStream are named with their version, and warned that +TERM takes no reason', () => {
  for (const version of ['2.9.10', '2.10.22']) {
    const capabilities = natsCapabilities({ version, jetstream: true, headers: true })
    assert.equal(capabilities.server, `nats-server ${version}`)
    assert.equal(capabilities.warnings.length, 1)
    assert.match(capabilities.warnings[0] as string, /\+TERM/)
  }
})

test('2.11 and later take +TERM with a reason: no warnings', () => {
  assert.deepEqual(natsCapabilities({ version: '2.11.0', jetstream: true, headers: true }), { server: 'nats-server 2.11.0', warnings: [] })
  assert.deepEqual(natsCapabilities({ version: '3.1.0', jetstream: true }).warnings, [])
})

test('a server older than 2.9, or with no version it can read, is refused naming the version found and the one needed', () => {
  for (const version of ['2.8.4', '1.4.1', 'unknown']) {
    assert.throws(() => natsCapabilities({ version, jetstream: true, headers: true }), (err: unknown) => {
      assert.ok(err instanceof BrokerUnsupportedError)
      assert.equal(err.code, 'ROOST_E_BROKER_UNSUPPORTED')
      assert.ok(err.message.includes(`nats-server ${version}`) && err.message.includes('2.9'), err.message)
      return true
    })
  }
  assert.throws(() => natsCapabilities({ jetstream: true }), BrokerUnsupportedError)
})

test('a server without JetStream is refused with the hint to start it with -js', () => {
  for (const jetstream of [false, undefined]) {
    assert.throws(() => natsCapabilities({ version: '2.9.10', jetstream, headers: true }), (err: unknown) => {
      assert.ok(err instanceof BrokerUnsupportedError)
      assert.match(err.message, /without JetStream/)
      assert.match(err.hint ?? '', /-js/)
      return true
    })
  }
})

test('a server without header support is refused: attributes travel in headers', () => {
  assert.throws(() => natsCapabilities({ version: '2.9.10', jetstream: true, headers: false }), /headers/)
})
