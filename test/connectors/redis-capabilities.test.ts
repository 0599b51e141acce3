// The Redis connector's check of its server, from INFO's text: the version it
// needs, no cluster, and a warning when eviction could drop a queue's stream.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BrokerUnsupportedError } from '../../src/errors/index.js'
import { parseInfo, redisCapabilities } from '../../src/connectors/redis-capabilities.js'

const INFO_7_0 = '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux\r\n\r\n# Memory\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n'

test('INFO\'s lines become a record; section headers and blank lines are left out', () => {
  assert.deepEqual(parseInfo(INFO_7_0), {
    redis_version: '7.0.15', redis_mode: 'standalone', os: 'Linux', maxmemory: '0', maxmemory_policy: 'noeviction'
  })
})

test('Redis 7.0 and later is named with its version, with no warnings', () => {
  assert.deepEqual(redisCapabilities(parseInfo(INFO_7_0)), { server: 'redis 7.0.15', warnings: [] })
  assert.equal(redisCapabilities({ redis_version: '7.4.1' }).server, 'redis 7.4.1')
  assert.equal(redisCapabilities({ redis_version: '10.0.0' }).server, 'redis 10.0.0')
})

test('an older server is refused with BrokerUnsupportedError naming the version found and the one needed', () => {
  for (const version of ['6.2.14', '5.0.7', '6.9.9']) {
    assert.throws(() => redisCapabilities({ redis_version: version }), (err: unknown) => {
      assert.ok(err instanceof BrokerUnsupportedError)
      assert.equal(err.code, 'ROOST_E_BROKER_UNSUPPORTED')
      assert.ok(err.message.includes(`redis ${version}`) && err.message.includes('7.0'), err.message)
      return true
    })
  }
})

test('a server that reports no version it can read is refused too', () => {
  assert.throws(() => redisCapabilities({}), BrokerUnsupportedError)
  assert.throws(() => redisCapabilities({ redis_version: 'unstable' }), BrokerUnsupportedError)
})

test('Redis Cluster is refused: the scripts touch a stream and its companion keys together', () => {
  assert.throws(() => redisCapabilities({ redis_version: '7.2.0', redis_mode: 'cluster' }), (err: unknown) => {
    assert.ok(err instanceof BrokerUnsupportedError)
    assert.match(err.message, /Cluster/)
    return true
  })
})

test('an eviction policy that may drop keys under a memory limit is a warning naming it', () => {
  const { warnings } = redisCapabilities({ redis_version: '7.0.15', maxmemory: '1073741824', maxmemory_policy: 'allkeys-lru' })
  assert.equal(warnings.length, 1)
  assert.match(warnings[0] as string, /allkeys-lru.*noeviction/)
  // With no memory limit nothing is ever evicted, whatever the policy.
  assert.deepEqual(redisCapabilities({ redis_version: '7.0.15', maxmemory: '0', maxmemory_policy: 'allkeys-lru' }).warnings, [])
})

test('Valkey is named as itself, with the Redis version it answers for', () => {
  assert.equal(redisCapabilities({ redis_version: '7.2.4', valkey_version: '8.0.1' }).server, 'valkey 8.0.1 (redis 7.2.4)')
})
