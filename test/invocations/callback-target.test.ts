import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPrivateAddress } from '../../src/invocations/callback-target.js'

// The addresses an X-Callback-Url may not reach by default: everything that is not a receiver on the internet.

test('loopback, private, link-local, shared, unspecified, multicast and reserved IPv4 addresses are private', () => {
  for (const address of ['127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1']) {
    assert.equal(isPrivateAddress(address), true, address)
  }
})

test('IPv6 loopback, unspecified, unique-local, link-local, multicast and IPv4-mapped private addresses are private', () => {
  for (const address of ['::1', '::', 'fd00::1', 'fc00::5', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '2001:db8::1']) {
    assert.equal(isPrivateAddress(address), true, address)
  }
})

test('public addresses are not, nor their IPv4-mapped form; something that is not an address counts as private', () => {
  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(isPrivateAddress(address), false, address)
  }
  assert.equal(isPrivateAddress('not-an-address'), true)
})
