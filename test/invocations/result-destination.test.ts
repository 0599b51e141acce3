import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeDestination, hopsOf, MAX_DESTINATION_HOPS, routeResult, type ResultDestinations } from '../../src/invocations/index.js'

// spec.async: which destination a final result takes, and how deep it may go.

const both: ResultDestinations = { onSuccess: { queue: 'results' }, onFailure: { function: 'audit' } }

test('a succeeded result goes to onSuccess; a failed or expired one to onFailure; a cancelled one nowhere', () => {
  assert.deepEqual(routeResult({ status: 'succeeded' }, both, 0), { kind: 'deliver', destination: { queue: 'results' }, hops: 1 })
  assert.deepEqual(routeResult({ status: 'failed' }, both, 0), { kind: 'deliver', destination: { function: 'audit' }, hops: 1 })
  assert.deepEqual(routeResult({ status: 'expired' }, both, 0), { kind: 'deliver', destination: { function: 'audit' }, hops: 1 })
  assert.deepEqual(routeResult({ status: 'cancelled' }, both, 0), { kind: 'none' })
})

test('no destination for the status (or no spec.async) routes nowhere', () => {
  assert.deepEqual(routeResult({ status: 'failed' }, { onSuccess: { queue: 'results' } }, 0), { kind: 'none' })
  assert.deepEqual(routeResult({ status: 'succeeded' }, { onFailure: { queue: 'results' } }, 0), { kind: 'none' })
  assert.deepEqual(routeResult({ status: 'succeeded' }, undefined, 0), { kind: 'none' })
})

test(`each delivery is one hop deeper; a result ${MAX_DESTINATION_HOPS} hops deep goes no further`, () => {
  assert.equal(MAX_DESTINATION_HOPS, 3)
  assert.deepEqual(routeResult({ status: 'succeeded' }, both, 2), { kind: 'deliver', destination: { queue: 'results' }, hops: 3 })
  assert.deepEqual(routeResult({ status: 'succeeded' }, both, 3), { kind: 'too-deep', destination: { queue: 'results' }, hops: 3 })
  assert.deepEqual(routeResult({ status: 'failed' }, both, 7), { kind: 'too-deep', destination: { function: 'audit' }, hops: 7 })
})

test('the hop count is read from the record\'s hops attribute; absent or not a count is 0', () => {
  assert.equal(hopsOf({ hops: '2' }), 2)
  assert.equal(hopsOf({}), 0)
  assert.equal(hopsOf({ hops: '-1' }), 0)
  assert.equal(hopsOf({ hops: 'many' }), 0)
})

test('a destination is named with its namespace', () => {
  assert.equal(describeDestination('shop', { queue: 'results' }), 'queue shop/results')
  assert.equal(describeDestination('shop', { function: 'audit' }), 'function shop/audit')
})
