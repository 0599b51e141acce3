import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  delaySeconds, formatRateLimit, formatRateLimitPolicy, RateLimitHeaderItem, retryAfterSeconds, sfString, windowSeconds
} from '../../src/governance/index.js'

describe('RateLimit-Policy', () => {
  test('an item is the name as an sf-string with q and w in whole seconds', () => {
    assert.equal(new RateLimitHeaderItem({ name: 'rate-limit-foo', quota: 10, windowMs: 1000 }).policy, '"rate-limit-foo";q=10;w=1')
  })

  test('several policies make one List', () => {
    assert.equal(
      formatRateLimitPolicy([{ name: 'burst', quota: 100, windowMs: 60_000 }, { name: 'daily', quota: 1000, windowMs: 86_400_000 }]),
      '"burst";q=100;w=60, "daily";q=1000;w=86400'
    )
  })

  test('a sub-second window is advertised as the next whole second', () => {
    assert.equal(windowSeconds(500), 1)
    assert.equal(windowSeconds(1000), 1)
    assert.equal(windowSeconds(1500), 2)
    assert.equal(new RateLimitHeaderItem({ name: 'p', quota: 5, windowMs: 250 }).policy, '"p";q=5;w=1')
  })

  test('a unit other than requests and a partition key are parameters; requests is the default left out', () => {
    const item = new RateLimitHeaderItem({ name: 'peruser', quota: 65535, unit: 'content-bytes', windowMs: 10_000, partitionKey: new Uint8Array([0x73, 0x64, 0x66]) })
    assert.equal(item.policy, '"peruser";q=65535;qu="content-bytes";w=10;pk=:c2Rm:')
    assert.equal(new RateLimitHeaderItem({ name: 'r', quota: 1, unit: 'requests' }).policy, '"r";q=1')
    assert.equal(new RateLimitHeaderItem({ name: 'c', quota: 8, unit: 'concurrent-requests' }).policy, '"c";q=8;qu="concurrent-requests"')
  })
})

describe('RateLimit', () => {
  test('an item is the name with r and t, t in seconds rounded up', () => {
    const item = new RateLimitHeaderItem({ name: 'foo', quota: 10, windowMs: 1000 })
    assert.equal(item.serviceLimit(0, 1), '"foo";r=0;t=1')
    assert.equal(item.serviceLimit(0, 1000), '"foo";r=0;t=1')
    assert.equal(item.serviceLimit(3, 1001), '"foo";r=3;t=2')
    assert.equal(formatRateLimit('default', 50, 30_000), '"default";r=50;t=30')
  })

  test('t is left out when nothing more is coming; r is a whole number, never negative', () => {
    const item = new RateLimitHeaderItem({ name: 'foo', quota: 10 })
    assert.equal(item.serviceLimit(10, 0), '"foo";r=10')
    assert.equal(item.serviceLimit(-2, 500), '"foo";r=0;t=1')
    assert.equal(item.serviceLimit(2.7, 0), '"foo";r=2')
  })

  test('an item repeated (a flood of refusals) is the same string; any change of r, t or the key makes a new one', () => {
    const item = new RateLimitHeaderItem({ name: 'foo', quota: 10, windowMs: 1000 })
    const key = new TextEncoder().encode('k')
    const expected: Array<[number, number, Uint8Array | undefined, string]> = [
      [0, 400, undefined, '"foo";r=0;t=1'],
      [0, 900, undefined, '"foo";r=0;t=1'],
      [0, 1400, undefined, '"foo";r=0;t=2'],
      [1, 1400, undefined, '"foo";r=1;t=2'],
      [1, 1400, key, '"foo";r=1;t=2;pk=:aw==:'],
      [1, 1400, undefined, '"foo";r=1;t=2'],
      [1, 0, undefined, '"foo";r=1'],
      [1, 0, key, '"foo";r=1;pk=:aw==:'],
      [0, 0, undefined, '"foo";r=0'],
      [0, 1, undefined, '"foo";r=0;t=1']
    ]
    for (const [remaining, resetMs, partitionKey, value] of expected) assert.equal(item.serviceLimit(remaining, resetMs, partitionKey), value)
  })

  test('a partition key is a Byte Sequence', () => {
    const item = new RateLimitHeaderItem({ name: 'default', quota: 1000 })
    assert.equal(item.serviceLimit(999, 0, new TextEncoder().encode('trial121323')), '"default";r=999;pk=:dHJpYWwxMjEzMjM=:')
  })
})

describe('names and seconds', () => {
  test('a name is escaped as an sf-string: quote and backslash escaped, what it cannot hold percent-encoded', () => {
    assert.equal(sfString('plain name-1'), '"plain name-1"')
    assert.equal(sfString('a"b\\c'), '"a\\"b\\\\c"')
    assert.equal(sfString('café'), '"caf%C3%A9"')
    assert.equal(sfString('line\nbreak'), '"line%0Abreak"')
    assert.equal(sfString('\ud800'), '"%EF%BF%BD"')
  })

  test('Retry-After is t rounded the same way, at least 1, so it never points earlier than t', () => {
    assert.equal(retryAfterSeconds(1), 1)
    assert.equal(retryAfterSeconds(1000), 1)
    assert.equal(retryAfterSeconds(1001), 2)
    assert.equal(retryAfterSeconds(0), 1)
    for (const ms of [0, 1, 17, 999, 1000, 1001, 4321.5, 59_999, 60_000]) assert.ok(retryAfterSeconds(ms) >= delaySeconds(ms))
  })

  test('delay-seconds are never negative and stay within an sf-integer', () => {
    assert.equal(delaySeconds(-5), 0)
    assert.equal(delaySeconds(Infinity), 999_999_999_999_999)
  })
})
