import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { validateFunction } from '../../src/api/validate.js'
import { resolveTriggers, cronQueueName, LEASE_MARGIN_MS } from '../../src/api/trigger-limits.js'
import { ValidationError } from '../../src/errors/index.js'

type Doc = Record<string, any>

function manifest (spec: Doc = {}): Doc {
  return { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'worker' }, spec: { source: './worker.ts', ...spec } }
}

function reported (doc: unknown): string[] {
  try {
    validateFunction(doc)
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`)
    return err.errors.map((p) => `${p.field}: ${p.message}`)
  }
  assert.fail('expected the document to be rejected')
}

describe('spec.triggers', () => {
  test('a queue trigger gets its defaults; a cron trigger too; the resource round-trips through JSON', () => {
    const resource = validateFunction(manifest({ triggers: [{ queue: { name: 'orders' } }, { cron: { schedule: ' */5 * * * * ' } }] }))
    assert.deepEqual(resource.spec.triggers, [
      { queue: { name: 'orders', batch: 10, maxBatchWait: '1s', maxAttempts: 5, backoff: { initial: '1s', max: '5m' }, maxDepth: 10_000, retention: '24h' } },
      { cron: { schedule: '*/5 * * * *', timezone: 'UTC', overlap: 'allow', catchUp: 'skip', catchUpWindow: '1h', maxAttempts: 3 } }
    ])
    assert.deepEqual(JSON.parse(JSON.stringify(resource)), resource)
  })

  test('a manifest without triggers has none in its spec', () => {
    assert.equal('triggers' in validateFunction(manifest()).spec, false)
    assert.equal('triggers' in validateFunction(manifest({ triggers: [] })).spec, false)
  })

  test('the trigger limits: durations in ms, the lease from the timeout unless visibility is given, cron by index', () => {
    const resource = validateFunction(manifest({
      timeout: '20s',
      triggers: [
        { cron: { schedule: '@hourly', timezone: 'Europe/Paris', overlap: 'forbid', catchUp: 'latest', catchUpWindow: '2h' } },
        { queue: { name: 'a', batch: 3, maxBatchWait: '250ms', backoff: { initial: '2s', max: '1m' }, deadLetter: { queue: 'graveyard' }, retention: '1h' } },
        { queue: { name: 'b', visibility: '5m' } }
      ]
    }))
    const limits = resolveTriggers(resource.spec)
    assert.deepEqual(limits.queues, [
      { queue: 'a', batch: 3, maxBatchWaitMs: 250, maxAttempts: 5, backoff: { initialMs: 2000, maxMs: 60_000 }, deadLetterQueue: 'graveyard', maxDepth: 10_000, retentionMs: 3_600_000, leaseMs: 20_000 + LEASE_MARGIN_MS },
      { queue: 'b', batch: 10, maxBatchWaitMs: 1000, maxAttempts: 5, backoff: { initialMs: 1000, maxMs: 300_000 }, deadLetterQueue: undefined, maxDepth: 10_000, retentionMs: 86_400_000, leaseMs: 300_000 }
    ])
    assert.deepEqual(limits.crons, [{ index: 0, schedule: '@hourly', timezone: 'Europe/Paris', overlap: 'forbid', catchUp: 'latest', catchUpWindowMs: 7_200_000, maxAttempts: 3 }])
    assert.equal(cronQueueName('worker', 0), 'cron.worker.0')
  })

  test('a bad cron expression and a bad time zone are refused at their fields', () => {
    assert.deepEqual(reported(manifest({ triggers: [{ cron: { schedule: 'every minute', timezone: 'Mars/Olympus' } }] })), [
      'spec.triggers[0].cron.schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 2 in "every minute"',
      'spec.triggers[0].cron.timezone: "Mars/Olympus" is not an IANA time zone (e.g. "UTC", "Europe/Paris", "America/New_York")'
    ])
    assert.match(reported(manifest({ triggers: [{ cron: { schedule: '61 * * * *' } }] }))[0]!, /^spec\.triggers\[0\]\.cron\.schedule: "61 \* \* \* \*" is not a cron expression/)
  })

  test('an unknown field of a queue trigger is named with a suggestion, in the queue\'s own words', () => {
    assert.deepEqual(reported(manifest({ triggers: [{ queue: { name: 'orders', bacth: 10 } }] })), ['spec.triggers[0].queue.bacth: unknown field; did you mean "batch"?'])
  })

  test('an entry is exactly one of queue and cron', () => {
    assert.deepEqual(reported(manifest({ triggers: [{}] })), ['spec.triggers[0]: a trigger is `queue: { name: … }` or `cron: { schedule: … }`'])
    assert.deepEqual(reported(manifest({ triggers: [{ queue: { name: 'a' }, cron: { schedule: '@daily' } }] })), ['spec.triggers[0]: a trigger is either `queue:` or `cron:`, not both: write two entries'])
  })

  test('a queue is consumed once per function, by a DNS-label name', () => {
    assert.deepEqual(reported(manifest({ triggers: [{ queue: { name: 'a' } }, { queue: { name: 'a' } }] })), ['spec.triggers[1].queue.name: queue "a" is consumed twice (also at spec.triggers[0]): give it one trigger'])
    assert.match(reported(manifest({ triggers: [{ queue: { name: 'Orders.x' } }] }))[0]!, /^spec\.triggers\[0\]\.queue\.name: "Orders\.x" is not a valid name/)
  })

  test('ranges: batch, backoff order, durations, a dead-letter queue other than the queue itself', () => {
    const lines = reported(manifest({ triggers: [{ queue: { name: 'a', batch: 0, maxBatchWait: '2m', backoff: { initial: '10s', max: '1s' }, visibility: '100ms', deadLetter: { queue: 'a' } } }] }))
    assert.deepEqual(lines.sort(), [
      'spec.triggers[0].queue.backoff.max: "1s" is shorter than backoff.initial (10s)',
      'spec.triggers[0].queue.batch: expected an integer from 1 to 1000, got 0',
      'spec.triggers[0].queue.deadLetter.queue: "a" is this trigger\'s own queue: dead messages cannot go back into it',
      'spec.triggers[0].queue.maxBatchWait: expected a duration from 0ms to 60s, got "2m"',
      'spec.triggers[0].queue.visibility: expected a duration from 1s to 12h, got "100ms"'
    ])
  })

  test('scaling on the queue metric needs a queue trigger', () => {
    assert.deepEqual(reported(manifest({ scale: { metric: 'queue' } })), ['spec.scale.metric: scaling on "queue" needs a queue trigger: add `triggers: [{ queue: { name: … } }]`, or use "concurrency" or "rps"'])
    const resource = validateFunction(manifest({ scale: { metric: 'queue', target: 10, min: 1, max: 10 }, triggers: [{ queue: { name: 'orders' } }] }))
    assert.equal(resource.spec.scale.metric, 'queue')
  })
})
