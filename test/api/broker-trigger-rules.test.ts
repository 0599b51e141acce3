import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { validateFunction } from '../../src/api/validate.js'
import { resolveTriggers } from '../../src/api/trigger-limits.js'
import { brokerSecretProblems, brokerUrl, redactedUrl } from '../../src/api/broker-credentials.js'
import { ValidationError } from '../../src/errors/index.js'

type Doc = Record<string, any>

function manifest (spec: Doc = {}): Doc {
  return { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'worker' }, spec: { source: './worker.ts', ...spec } }
}

function queueTrigger (queue: Doc): Doc {
  return manifest({ triggers: [{ queue }] })
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

describe('queue triggers on a broker', () => {
  test('a redis trigger keeps what it wrote, create filled, no embedded-only field; it round-trips through JSON', () => {
    const resource = validateFunction(manifest({
      triggers: [{ queue: { name: 'orders', connector: 'redis', url: 'redis://127.0.0.1:6379', stream: 'orders', group: 'fulfil', batch: 10, maxAttempts: 5 } }],
      scale: { metric: 'queue', target: 10, min: 0, max: 10 }
    }))
    assert.deepEqual(resource.spec.triggers, [{
      queue: { name: 'orders', connector: 'redis', url: 'redis://127.0.0.1:6379', create: true, batch: 10, maxAttempts: 5, backoff: { initial: '1s', max: '5m' }, stream: 'orders', group: 'fulfil' }
    }])
    assert.deepEqual(JSON.parse(JSON.stringify(resource)), resource)
    // What `get -o yaml` shows applies again unchanged.
    assert.deepEqual(validateFunction({ ...resource, spec: { ...resource.spec } }).spec.triggers, resource.spec.triggers)
  })

  test('nats and rabbitmq triggers with their own fields; the limits carry the broker, the rabbit queue as rabbitQueue', () => {
    const resource = validateFunction(manifest({
      triggers: [
        { queue: { name: 'jobs', connector: 'nats', url: 'nats://127.0.0.1:4222', stream: 'ORDERS', subject: 'orders.>', consumer: 'fulfil' } },
        { queue: { name: 'work', connector: 'rabbitmq', url: 'amqp://127.0.0.1:5672', auth: { secret: 'rabbit-creds' }, queue: 'orders', prefetch: 20, create: false } }
      ]
    }))
    const [jobs, work] = resolveTriggers(resource.spec).queues
    assert.deepEqual(jobs?.broker, { connector: 'nats', url: 'nats://127.0.0.1:4222', create: true, stream: 'ORDERS', subject: 'orders.>', consumer: 'fulfil' })
    assert.deepEqual(work?.broker, { connector: 'rabbitmq', url: 'amqp://127.0.0.1:5672', create: false, secret: 'rabbit-creds', rabbitQueue: 'orders', prefetch: 20 })
    assert.equal(work?.queue, 'work')
  })

  test('connector: embedded is the default and is not stored', () => {
    const resource = validateFunction(queueTrigger({ name: 'orders', connector: 'embedded' }))
    const trigger = resource.spec.triggers?.[0] as { queue: Doc }
    assert.equal('connector' in trigger.queue, false)
    assert.equal(trigger.queue.maxDepth, 10_000)
    assert.equal(resolveTriggers(resource.spec).queues[0]?.broker, undefined)
  })

  test('a URL with a user or password is refused, without echoing it, pointing at auth.secret', () => {
    const problems = reported(queueTrigger({ name: 'q', connector: 'rabbitmq', url: 'amqp://guest:s3cret@127.0.0.1:5672' }))
    assert.equal(problems.length, 1)
    assert.match(problems[0] as string, /^spec\.triggers\[0\]\.queue\.url: credentials do not go in the URL .*auth\.secret$/)
    assert.doesNotMatch(problems[0] as string, /s3cret/)
  })

  test('a URL of another broker\'s scheme, or no URL at all, is refused at url', () => {
    assert.deepEqual(reported(queueTrigger({ name: 'q', connector: 'redis', url: 'nats://127.0.0.1:4222', stream: 's', group: 'g' })), [
      'spec.triggers[0].queue.url: a redis URL starts with redis:// or rediss://, got "nats:"'
    ])
    assert.deepEqual(reported(queueTrigger({ name: 'q', connector: 'rabbitmq' })), [
      'spec.triggers[0].queue.url: required for connector rabbitmq: where the broker is, e.g. amqp://127.0.0.1:5672'
    ])
  })

  test('what a broker needs to find its messages is required', () => {
    assert.deepEqual(reported(queueTrigger({ name: 'q', connector: 'redis', url: 'redis://127.0.0.1:6379' })), [
      'spec.triggers[0].queue.stream: required for connector redis: the stream key to read',
      'spec.triggers[0].queue.group: required for connector redis: the consumer group that reads it'
    ])
    assert.deepEqual(reported(queueTrigger({ name: 'q', connector: 'nats', url: 'nats://127.0.0.1:4222', stream: 'S' })), [
      'spec.triggers[0].queue.consumer: required for connector nats: the durable pull consumer\'s name'
    ])
  })

  test('the embedded queue\'s own fields are refused on a broker trigger, each with a hint', () => {
    assert.deepEqual(reported(queueTrigger({ name: 'q', connector: 'redis', url: 'redis://127.0.0.1:6379', stream: 's', group: 'g', maxDepth: 5, maxBatchWait: '2s', retention: '1h', deadLetter: { queue: 'x' } })), [
      'spec.triggers[0].queue.maxBatchWait: the embedded queue\'s only, not a redis trigger\'s: a broker trigger delivers what a fetch returns at once; leave it out',
      'spec.triggers[0].queue.maxDepth: the embedded queue\'s only, not a redis trigger\'s: bound the queue on the broker itself (a stream\'s max-msgs, MAXLEN, a queue\'s x-max-length)',
      'spec.triggers[0].queue.retention: the embedded queue\'s only, not a redis trigger\'s: the broker keeps its messages as it is configured to; leave it out',
      'spec.triggers[0].queue.deadLetter: the embedded queue\'s only, not a redis trigger\'s: dead messages of a broker trigger are in `roost dlq` (and in the broker\'s own dead-letter place where it has one)'
    ])
  })

  test('another broker\'s fields are refused on the wrong connector; broker fields without a connector too', () => {
    assert.deepEqual(reported(queueTrigger({ name: 'q', connector: 'redis', url: 'redis://127.0.0.1:6379', stream: 's', group: 'g', subject: 'a.>', prefetch: 3 })), [
      'spec.triggers[0].queue.subject: a nats field, not a redis trigger\'s: a redis trigger takes url, create, auth, stream, group',
      'spec.triggers[0].queue.prefetch: a rabbitmq field, not a redis trigger\'s: a redis trigger takes url, create, auth, stream, group'
    ])
    assert.deepEqual(reported(queueTrigger({ name: 'q', url: 'redis://127.0.0.1:6379' })), [
      'spec.triggers[0].queue.url: a broker trigger\'s field: set `connector: nats`, `redis` or `rabbitmq` to read from a broker, or leave it out for the embedded queue'
    ])
  })

  test('an unknown connector is refused by the schema at connector', () => {
    const problems = reported(queueTrigger({ name: 'q', connector: 'kafka', url: 'kafka://x' }))
    assert.ok(problems.some((p) => p.startsWith('spec.triggers[0].queue.connector: ')), problems.join('\n'))
  })
})

describe('broker credentials', () => {
  const lookup = (name: string): { data: Record<string, string>, resourceVersion: number } | undefined =>
    name === 'rabbit-creds' ? { data: { username: 'guest', password: 'p@ss/word' }, resourceVersion: 1 } : name === 'empty' ? { data: { other: 'x' }, resourceVersion: 1 } : undefined

  test('auth.secret must name a Secret with a password or token', () => {
    const spec = validateFunction(manifest({
      triggers: [
        { queue: { name: 'a', connector: 'rabbitmq', url: 'amqp://127.0.0.1:5672', auth: { secret: 'missing' } } },
        { queue: { name: 'b', connector: 'rabbitmq', url: 'amqp://127.0.0.1:5672', auth: { secret: 'empty' } } },
        { queue: { name: 'c', connector: 'rabbitmq', url: 'amqp://127.0.0.1:5672', auth: { secret: 'rabbit-creds' } } }
      ]
    })).spec
    assert.deepEqual(brokerSecretProblems(spec, lookup).map((p) => `${p.field}: ${p.message}`), [
      'spec.triggers[0].queue.auth.secret: secret missing does not exist in this namespace; create it with `roost secret create missing --from-literal username=USER --from-literal password=PASSWORD`',
      'spec.triggers[1].queue.auth.secret: secret empty has neither password nor token; it has other'
    ])
  })

  test('the URL dialled has the Secret\'s user and password, encoded; redacted for messages', () => {
    const url = brokerUrl('amqp://127.0.0.1:5672/', 'rabbit-creds', lookup) as string
    assert.equal(url, 'amqp://guest:p%40ss%2Fword@127.0.0.1:5672/')
    assert.equal(new URL(url).password, 'p%40ss%2Fword')
    assert.equal(brokerUrl('amqp://127.0.0.1:5672', undefined, lookup), 'amqp://127.0.0.1:5672')
    assert.equal(brokerUrl('amqp://127.0.0.1:5672', 'missing', lookup), undefined)
    assert.equal(redactedUrl(url), 'amqp://***@127.0.0.1:5672/')
  })
})
