import { errors, json, problem } from './openapi-parts.js'
// The OpenAPI description of the queue and trigger routes, spread into
// openapi.ts's paths. A queue is declared by the function that consumes it
// (spec.triggers); these routes publish to it and look after its dead letters.

const namespace = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }
const queue = { name: 'queue', in: 'path', required: true, schema: { type: 'string' }, description: 'a queue a function of the namespace declares' }
const epochMs = (description: string): object => ({ type: ['integer', 'null'], description: `${description}, epoch ms` })

const message = {
  type: 'object',
  required: ['body'],
  properties: {
    body: { description: 'the message: any JSON value; a string with bodyType text; base64 with bodyType bytes' },
    bodyType: { enum: ['json', 'text', 'bytes'], description: 'how body is meant (default json)' },
    key: { type: 'string', maxLength: 256, description: 'idempotency key: a second message with it, while the first is live or within the queue\'s retention, is a duplicate' },
    onDuplicate: { enum: ['refuse', 'replace'], description: 'what a key already in use does (default refuse)' },
    delay: { oneOf: [{ type: 'string', pattern: '^\\d+(ms|s|m|h)$' }, { type: 'integer', minimum: 0 }], description: 'not delivered before this long from now (a duration or ms; at most 7 days)' },
    attributes: { type: 'object', additionalProperties: { type: 'string' }, description: 'CloudEvents extension attributes: lower-case names of letters and digits' },
    source: { type: 'string' },
    type: { type: 'string' },
    subject: { type: 'string' },
    contentType: { type: 'string' }
  }
}
const results = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, outcome: { enum: ['created', 'replaced', 'duplicate'] } } },
      description: 'one per message, in order; a duplicate names the message already there'
    }
  }
}
const queueItem = {
  type: 'object',
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    consumer: { type: ['string', 'null'], description: 'the function that consumes it; null when none does any more' },
    depth: { type: 'integer', description: 'ready messages, due or delayed' },
    leased: { type: 'integer', description: 'messages being handled' },
    backlog: { type: 'integer', description: 'depth + leased: what scale.metric queue divides by its target' },
    dead: { type: 'integer' },
    maxDepth: { type: ['integer', 'null'] },
    lastCompletedAt: epochMs('when a message last finished'),
    connector: { enum: ['embedded', 'nats', 'redis', 'rabbitmq'], description: 'what holds it; for a broker, depth and leased are the broker\'s own numbers and dead counts Roost\'s copies' }
  }
}
const attempt = {
  type: 'object',
  properties: {
    delivery: { type: 'integer' },
    counted: { type: 'boolean', description: 'false for a release (drain, stop, a refusal of the gateway)' },
    outcome: { type: 'string' },
    consumer: { type: ['string', 'null'] },
    startedAt: { type: 'integer' },
    endedAt: { type: 'integer' },
    initMs: { type: ['integer', 'null'] },
    status: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] }
  }
}
const deadItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    queue: { type: 'string' },
    body: { description: 'the JSON value, the text, or base64 for bytes' },
    bodyType: { enum: ['json', 'text', 'bytes'] },
    attributes: { type: 'object', additionalProperties: { type: 'string' } },
    key: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    reason: { type: ['string', 'null'], description: 'why it died' },
    createdAt: { type: 'integer' },
    finishedAt: epochMs('when it died'),
    history: { type: 'array', items: attempt }
  }
}
const triggerItem = {
  type: 'object',
  properties: {
    namespace: { type: 'string' },
    function: { type: 'string' },
    kind: { enum: ['queue', 'cron'] },
    name: { type: 'string', description: 'the queue, or the cron trigger (<function>.<index>)' },
    queue: { type: 'string', description: 'where its events wait (a cron trigger\'s internal queue)' },
    schedule: { type: ['string', 'null'] },
    timezone: { type: ['string', 'null'] },
    lastFiring: epochMs('the latest time fired'),
    nextFiring: epochMs('the next time due'),
    backlog: { type: 'integer' },
    connector: { type: ['string', 'null'], description: 'a queue trigger\'s connector: embedded, nats, redis or rabbitmq; null for cron' },
    state: { enum: ['Connecting', 'Connected', 'Disconnected', 'Failed', null], description: 'a broker trigger\'s condition; null otherwise' },
    reason: { type: ['string', 'null'], description: 'Connected, Connecting, BrokerUnavailable, BrokerMissing, BrokerUnsupported or SecretMissing' },
    message: { type: ['string', 'null'] },
    server: { type: ['string', 'null'], description: 'the broker as its connector named it (e.g. "redis 7.0.15")' }
  }
}
const list = (item: object): object => ({ type: 'object', properties: { items: { type: 'array', items: item } } })
const selection = { oneOf: [{ type: 'object', required: ['ids'], properties: { ids: { type: 'array', items: { type: 'string' }, minItems: 1 } } }, { type: 'object', required: ['all'], properties: { all: { const: true } } }] }

export const queuePaths = {
  '/apis/roost.dev/v1/namespaces/{namespace}/queues/{queue}/messages': {
    parameters: [namespace, queue],
    post: {
      operationId: 'publishMessages',
      summary: 'Publish one message or a batch (written whole or not at all, each fsynced before the answer)',
      requestBody: { required: true, ...json({ oneOf: [{ type: 'object', required: ['messages'], properties: { messages: { type: 'array', items: message, minItems: 1, maxItems: 1000 } } }, message] }) },
      responses: {
        201: { description: 'stored', ...json(results) },
        429: { description: 'the queue is at its maxDepth: nothing was stored; Retry-After says when to try again', headers: { 'Retry-After': { schema: { type: 'integer' } } }, ...problem },
        503: { description: 'ROOST_E_BROKER_UNAVAILABLE: the broker that holds the queue is not reachable now; Retry-After says when to try again', headers: { 'Retry-After': { schema: { type: 'integer' } } }, ...problem },
        ...errors
      }
    }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/queues': {
    parameters: [namespace],
    get: { operationId: 'listNamespacedQueues', summary: 'The queues of a namespace: depth, leased, dead, consumer', responses: { 200: { description: 'queues', ...json(list(queueItem)) }, ...errors } }
  },
  '/apis/roost.dev/v1/queues': {
    get: { operationId: 'listQueues', summary: 'The queues of every namespace the token may see', responses: { 200: { description: 'queues', ...json(list(queueItem)) }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/queues/{queue}/dead': {
    parameters: [namespace, queue],
    get: {
      operationId: 'listDeadMessages',
      summary: 'Dead messages of a queue, oldest first, with their body, reason and every attempt',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 1000 } },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'the `next` of the previous page' }
      ],
      responses: { 200: { description: 'dead messages', ...json({ type: 'object', properties: { items: { type: 'array', items: deadItem }, next: { type: ['string', 'null'] } } }) }, ...errors }
    },
    delete: {
      operationId: 'purgeDeadMessages',
      summary: 'Delete dead messages: ?id=… (repeatable) or ?all=true',
      parameters: [
        { name: 'id', in: 'query', schema: { type: 'array', items: { type: 'string' } }, description: 'a dead message to delete; repeat it for more' },
        { name: 'all', in: 'query', schema: { type: 'boolean' } }
      ],
      responses: { 200: { description: 'purged', ...json({ type: 'object', properties: { result: { const: 'purged' }, purged: { type: 'integer' } } }) }, ...errors }
    }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/queues/{queue}/dead/replay': {
    parameters: [namespace, queue],
    post: {
      operationId: 'replayDeadMessages',
      summary: 'Put dead messages back in the queue, due now, with a fresh set of attempts (their history stays)',
      requestBody: { required: true, ...json(selection) },
      responses: { 200: { description: 'replayed', ...json({ type: 'object', properties: { result: { const: 'replayed' }, replayed: { type: 'integer' } } }) }, ...errors }
    }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/triggers': {
    parameters: [namespace],
    get: { operationId: 'listNamespacedTriggers', summary: 'The triggers of a namespace\'s functions: each cron with its last and next firing, each queue with its backlog', responses: { 200: { description: 'triggers', ...json(list(triggerItem)) }, ...errors } }
  },
  '/apis/roost.dev/v1/triggers': {
    get: { operationId: 'listTriggers', summary: 'The triggers of every namespace the token may see', responses: { 200: { description: 'triggers', ...json(list(triggerItem)) }, ...errors } }
  }
} as const
