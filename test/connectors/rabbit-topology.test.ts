// What the RabbitMQ connector declares for a queue: the names beside it, the
// quorum queue's arguments, and the delay buckets that bound how many delay
// queues backoff with jitter makes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  DELAY_QUEUE_IDLE_MS, MAX_DELAY_MS, delayBucket, delayQueueArguments, delayQueueName, queueArguments, rabbitNames
} from '../../src/connectors/rabbit-topology.js'

test('the dead-letter exchange, the dead-letter queue and the delay queues are named after the queue', () => {
  assert.deepEqual(rabbitNames('orders'), { queue: 'orders', deadExchange: 'orders.dlx', deadQueue: 'orders.dead' })
  assert.equal(delayQueueName('orders', 1300), 'orders.delay.1300')
})

test('the queue is a quorum queue whose delivery limit is above maxAttempts, dead-lettering into its exchange', () => {
  const names = rabbitNames('orders')
  assert.deepEqual(queueArguments(names, 5, { atLeastOnceDeadLettering: true }), {
    'x-queue-type': 'quorum',
    'x-delivery-limit': 6,
    'x-dead-letter-exchange': 'orders.dlx',
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish'
  })
  assert.deepEqual(queueArguments(names, 1, { atLeastOnceDeadLettering: false }), {
    'x-queue-type': 'quorum', 'x-delivery-limit': 2, 'x-dead-letter-exchange': 'orders.dlx'
  })
})

test('a delay is rounded up to two significant digits, never down', () => {
  assert.equal(delayBucket(0), 0)
  assert.equal(delayBucket(-5), 0)
  assert.equal(delayBucket(Number.NaN), 0)
  assert.equal(delayBucket(0.2), 1)
  assert.equal(delayBucket(99), 99)
  assert.equal(delayBucket(300), 300)
  assert.equal(delayBucket(301), 310)
  assert.equal(delayBucket(1234), 1300)
  assert.equal(delayBucket(45_678), 46_000)
  assert.equal(delayBucket(100_000), 100_000)
  for (const ms of [1, 7, 150, 999, 1001, 12_345, 987_654]) assert.ok(delayBucket(ms) >= ms && delayBucket(ms) <= ms * 1.1 + 1, `${ms} → ${delayBucket(ms)}`)
  assert.equal(delayBucket(2 ** 40), MAX_DELAY_MS)
})

test('backoff with jitter over a decade makes at most ninety delay queues', () => {
  const buckets = new Set<number>()
  for (let ms = 1000; ms < 10_000; ms += 7) buckets.add(delayBucket(ms))
  assert.ok(buckets.size <= 91, `${buckets.size} buckets`)
})

test('a delay queue holds each message for its delay, dead-letters it back to the queue, and outlives its messages when unused', () => {
  assert.deepEqual(delayQueueArguments('orders', 300), {
    'x-message-ttl': 300,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': 'orders',
    'x-expires': 300 + DELAY_QUEUE_IDLE_MS
  })
})
