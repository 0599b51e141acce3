import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FunctionSpec } from '../../src/api/index.js'
import { validateFunction } from '../../src/api/index.js'
import { planTriggers, queueLoads, type QueueConsumer, type TriggerPlan } from '../../src/dispatch/index.js'
import type { QueueStats } from '../../src/events/index.js'
import type { StoredResource } from '../../src/store/index.js'

/** The plan without the async queue every function has (its own test says what that is). */
function triggered (plan: TriggerPlan): TriggerPlan {
  return { queues: plan.queues.filter((q) => !q.queue.startsWith('async.')), consumers: plan.consumers.filter((c) => c.event !== 'invocation'), crons: plan.crons, brokers: plan.brokers }
}

function stored (name: string, spec: Record<string, unknown>, namespace = 'shop'): StoredResource<FunctionSpec> {
  const resource = validateFunction({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name, namespace }, spec: { source: './x.ts', ...spec } })
  return {
    kind: 'Function', namespace, name, uid: name, resourceVersion: 1, generation: 1, labels: {}, spec: resource.spec, status: undefined,
    createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-02T00:00:00.000Z'
  }
}

test('a queue trigger declares its queue with its policy and a consumer with its numbers', () => {
  const plan = triggered(planTriggers([stored('fulfil', {
    timeout: '20s',
    scale: { metric: 'queue', target: 10, min: 1, max: 10 },
    triggers: [{ queue: { name: 'orders', batch: 5, maxAttempts: 4, backoff: { initial: '2s', max: '1m' }, maxDepth: 500, retention: '1h', deadLetter: { queue: 'dead-orders' } } }]
  })]))
  assert.deepEqual(plan.queues, [{ namespace: 'shop', queue: 'orders', policy: { maxAttempts: 4, maxDepth: 500, backoff: { initialMs: 2000, maxMs: 60_000 }, retentionMs: 3_600_000 } }])
  assert.deepEqual(plan.consumers, [{
    namespace: 'shop', queue: 'orders', function: 'fulfil', event: 'queue', batch: 5, maxBatchWaitMs: 1000, leaseMs: 30_000,
    perInstance: 10, deliveryTimeoutMs: 25_000, deadLetterQueue: 'dead-orders'
  }])
  assert.deepEqual(plan.crons, [])
})

test('a broker trigger is a broker consumer with its numbers and its broker; nothing is declared for it in the events database', () => {
  const plan = triggered(planTriggers([stored('fulfil', {
    timeout: '20s',
    scale: { metric: 'queue', target: 10, min: 0, max: 10 },
    triggers: [
      { queue: { name: 'orders', connector: 'redis', url: 'redis://127.0.0.1:6379', stream: 'orders', group: 'fulfil', batch: 10, maxAttempts: 5 } },
      { queue: { name: 'work', connector: 'rabbitmq', url: 'amqp://127.0.0.1:5672', auth: { secret: 'rabbit-creds' }, queue: 'orders', prefetch: 20, visibility: '1m' } }
    ]
  })]))
  assert.deepEqual(plan.queues, [])
  assert.deepEqual(plan.consumers, [])
  assert.deepEqual(plan.brokers, [
    {
      namespace: 'shop', queue: 'orders', function: 'fulfil', batch: 10, leaseMs: 30_000, perInstance: 10, maxInFlight: 100, deliveryTimeoutMs: 25_000, maxAttempts: 5,
      backoff: { initialMs: 1000, maxMs: 300_000 }, broker: { connector: 'redis', url: 'redis://127.0.0.1:6379', create: true, stream: 'orders', group: 'fulfil' }
    },
    {
      namespace: 'shop', queue: 'work', function: 'fulfil', batch: 10, leaseMs: 60_000, perInstance: 10, maxInFlight: 100, deliveryTimeoutMs: 25_000, maxAttempts: 5,
      backoff: { initialMs: 1000, maxMs: 300_000 }, broker: { connector: 'rabbitmq', url: 'amqp://127.0.0.1:5672', create: true, secret: 'rabbit-creds', rabbitQueue: 'orders', prefetch: 20 }
    }
  ])
})

test('without the queue metric an instance takes as many messages as its concurrency', () => {
  const [consumer] = triggered(planTriggers([stored('w', { concurrency: 4, triggers: [{ queue: { name: 'jobs' } }] })])).consumers
  assert.equal(consumer?.perInstance, 4)
})

test('a cron trigger gets an internal queue named for its function and index, delivered one firing at a time', () => {
  const plan = triggered(planTriggers([stored('report', { triggers: [{ queue: { name: 'jobs' } }, { cron: { schedule: '@hourly', timezone: 'Europe/Paris', overlap: 'forbid', maxAttempts: 2 } }] })]))
  assert.deepEqual(plan.crons, [{
    namespace: 'shop', function: 'report', trigger: 'report.1', queue: 'cron.report.1', schedule: '@hourly', timezone: 'Europe/Paris',
    overlap: 'forbid', catchUp: 'skip', catchUpWindowMs: 3_600_000, since: Date.parse('2025-01-02T00:00:00.000Z')
  }])
  assert.deepEqual(plan.queues.map((q) => [q.queue, q.policy.maxAttempts]), [['jobs', 5], ['cron.report.1', 2]])
  assert.deepEqual(plan.consumers.map((c) => [c.queue, c.event, c.batch]), [['jobs', 'queue', 10], ['cron.report.1', 'scheduled', 1]])
})

test('every function, with triggers or without, has its async queue, one call per delivery, as many in flight as its concurrency', () => {
  const plan = planTriggers([stored('api', { timeout: '10s', concurrency: 20 })])
  assert.deepEqual(plan.queues, [{ namespace: 'shop', queue: 'async.api', policy: { maxAttempts: 3, backoff: { initialMs: 1000, maxMs: 60_000 }, maxAgeMs: 21_600_000, maxBodyBytes: 2_097_152, maxResponseBytes: 1_048_576 } }])
  assert.deepEqual(plan.consumers, [{
    namespace: 'shop', queue: 'async.api', function: 'api', event: 'invocation', batch: 1, maxBatchWaitMs: 0, leaseMs: 20_000, perInstance: 20, deliveryTimeoutMs: 15_000
  }])
})

test('two functions claiming one queue: the first by name keeps it, another namespace has its own', () => {
  const plan = triggered(planTriggers([
    stored('zeta', { triggers: [{ queue: { name: 'orders' } }] }),
    stored('alpha', { triggers: [{ queue: { name: 'orders' } }] }),
    stored('beta', { triggers: [{ queue: { name: 'orders' } }] }, 'other')
  ]))
  assert.deepEqual(plan.consumers.map((c) => `${c.namespace}/${c.queue}:${c.function}`), ['other/orders:beta', 'shop/orders:alpha'])
})

test('queue loads: a function\'s backlog over its queues, split by the traffic of its serving versions', () => {
  const consumers: QueueConsumer[] = triggered(planTriggers([stored('fulfil', { triggers: [{ queue: { name: 'orders' } }, { queue: { name: 'returns' } }] })])).consumers
  const stats = (namespace: string, queue: string): QueueStats => ({
    namespace, queue, waiting: queue === 'orders' ? 30 : 6, leased: 4, backlog: queue === 'orders' ? 34 : 10, dead: 0, lastCompletedAt: queue === 'orders' ? 100 : 200
  })
  assert.deepEqual(queueLoads(consumers, stats, () => [{ version: 1, percent: 75 }, { version: 2, percent: 25 }, { version: 3, percent: 0 }]), [
    { key: 'shop/fulfil@1', backlog: 33, lastCompletedAt: 200 },
    { key: 'shop/fulfil@2', backlog: 11, lastCompletedAt: 200 }
  ])
  assert.deepEqual(queueLoads(consumers, stats, () => undefined), [], 'a function not routed has no version to scale')
})
