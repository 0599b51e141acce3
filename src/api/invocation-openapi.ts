import { errors, json } from './openapi-parts.js'
// The OpenAPI description of the async-invocation routes, spread into
// openapi.ts's paths. An invocation is made on the gateway (POST /async/fn/NAME);
// the API reads, lists and cancels them.

const namespace = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'the function' }
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the call id: X-Call-Id of the gateway\'s 202' }
const statuses = ['queued', 'retrying', 'running', 'succeeded', 'failed', 'expired', 'cancelled']
const epochMs = (description: string): object => ({ type: ['integer', 'null'], description: `${description}, epoch ms` })
const body = {
  body: { type: 'string', description: 'the bytes as UTF-8 text, or base64 when they are not valid UTF-8' },
  bodyEncoding: { enum: ['utf8', 'base64'] }
}

const invocation = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    namespace: { type: 'string' },
    function: { type: 'string' },
    status: { enum: statuses, description: 'queued (not started), retrying (an attempt failed, another is due), running, succeeded, failed (every attempt failed), expired (older than its maximum age before it ran), cancelled' },
    attempts: { type: 'integer', description: 'counted attempts so far (a drained or stopped instance gives one back uncounted)' },
    maxAttempts: { type: 'integer', description: '3: the first and two retries' },
    createdAt: { type: 'integer', description: 'when the gateway accepted it, epoch ms' },
    startedAt: epochMs('when the first attempt began'),
    finishedAt: epochMs('when it ended'),
    timings: {
      type: 'object',
      properties: {
        waitedMs: { type: ['integer', 'null'], description: 'from acceptance to the first start' },
        coldStartMs: { type: ['integer', 'null'], description: 'the cold start of the last attempt, if it had one' },
        ranMs: { type: ['integer', 'null'], description: 'how long the last attempt ran' }
      }
    },
    reason: { type: ['string', 'null'], description: 'why it is dead' },
    request: {
      type: ['object', 'null'],
      properties: {
        method: { type: 'string' },
        path: { type: 'string', description: 'path and query as the function sees them' },
        callbackUrl: { type: ['string', 'null'] },
        caller: { type: ['string', 'null'], description: 'ctx.caller of the call' },
        requestId: { type: 'string', description: 'the x-request-id of the gateway\'s 202' },
        bodyBytes: { type: 'integer' }
      }
    },
    response: {
      type: ['object', 'null'],
      description: 'what the function answered (a succeeded invocation), the body cut at 1 MiB',
      properties: { status: { type: 'integer' }, headers: { type: 'object', additionalProperties: { type: 'string' } }, ...body, truncated: { type: 'boolean' } }
    }
  }
}
const attempt = {
  type: 'object',
  properties: {
    delivery: { type: 'integer' },
    counted: { type: 'boolean' },
    outcome: { type: 'string', description: 'succeeded, error, timeout, crashed, retry, expired, dead, drained or stopped' },
    consumer: { type: ['string', 'null'] },
    startedAt: { type: 'integer' },
    endedAt: { type: 'integer' },
    initMs: { type: ['integer', 'null'] },
    status: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] }
  }
}
const detail = {
  type: 'object',
  properties: {
    ...invocation.properties,
    history: { type: 'array', items: attempt, description: 'every delivery, counted or not' },
    logs: { type: 'array', items: { $ref: '#/components/schemas/LogLine' }, description: 'the lines its attempts wrote (their request id is the call id), at most 200' }
  }
}

export const invocationPaths = {
  '/apis/roost.dev/v1/namespaces/{namespace}/invocations/{id}': {
    parameters: [namespace, id],
    get: { operationId: 'readInvocation', summary: 'Read an async invocation: status, attempts, timings, the response and the logs of its attempts', responses: { 200: { description: 'the invocation', ...json(detail) }, ...errors } },
    delete: {
      operationId: 'cancelInvocation',
      summary: 'Cancel an async invocation that has not started (queued, or waiting for a retry); 409 when it is running or finished',
      responses: { 200: { description: 'cancelled', ...json({ type: 'object', properties: { result: { const: 'cancelled' }, id: { type: 'string' }, namespace: { type: 'string' } } }) }, ...errors }
    }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/invocations': {
    parameters: [
      namespace, name,
      { name: 'status', in: 'query', schema: { enum: statuses }, description: 'only invocations in this status' },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 1000 }, description: 'at most this many (default 100), oldest first' },
      { name: 'after', in: 'query', schema: { type: 'string' }, description: 'the `next` of the previous page' }
    ],
    get: {
      operationId: 'listInvocations',
      summary: 'List a function\'s async invocations, oldest first (finished ones are kept 24 h)',
      responses: { 200: { description: 'invocations', ...json({ type: 'object', properties: { items: { type: 'array', items: invocation }, next: { type: ['string', 'null'], description: 'pass as ?after= for the next page' } } }) }, ...errors }
    }
  }
} as const
