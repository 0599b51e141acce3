import { problem, errors, json, ref } from './openapi-parts.js'
import { strictManifestSchema } from './schema-document.js'
import { routeReservationPaths } from './route-reservation-openapi.js'
import { invocationPaths } from './invocation-openapi.js'
import { queuePaths } from './queue-openapi.js'
import { keyPaths } from './key-openapi.js'
import { rulePaths, ruleSchemas } from './rule-openapi.js'
import { secretPaths } from './secret-openapi.js'
import { DRY_RUN_PARAMETER, MORE_PATHS } from './openapi-paths.js'

// The OpenAPI 3.1 description of the REST API, served at /openapi.json. 3.1
// speaks JSON Schema 2020-12, so the manifest schema editors use is embedded unchanged.

const namespace = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } }
const list = (item: string): object => ({ type: 'object', properties: { items: { type: 'array', items: ref(item) } } })
const condition = { type: 'object', properties: { type: { type: 'string' }, status: { enum: ['True', 'False'] }, reason: { type: 'string' }, message: { type: 'string' } } }
const trafficTarget = { type: 'object', properties: { version: { type: 'integer' }, percent: { type: 'integer' }, tag: { type: 'string' } } }

export function openApiDocument (): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Roost API',
      version: '1',
      description: 'Manage functions, versions, instances, logs, tokens, secrets, API keys, governance rules, async invocations, queues and triggers of a Roost platform. Every route but /healthz, /metrics and /openapi.json needs `Authorization: Bearer <token>`. Errors are application/problem+json (RFC 9457) with a stable `code`.'
    },
    // `roost up`'s default address; a client for another platform sets host and port.
    servers: [{ url: 'http://{host}:{port}', description: 'a Roost API', variables: { host: { default: '127.0.0.1' }, port: { default: '7070' } } }],
    security: [{ bearer: [] }],
    paths: {
      ...MORE_PATHS,
      '/healthz': { get: { operationId: 'getHealth', summary: 'Liveness of the API', security: [], responses: { 200: { description: 'ok' } } } },
      '/metrics': { get: { operationId: 'getMetrics', summary: 'Prometheus metrics of the platform: requests, latency, instances, cold starts, scaling decisions', security: [], responses: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/openapi.json': { get: { operationId: 'getOpenApiDocument', summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/apis/roost.dev/v1/functions': {
        get: { operationId: 'listFunctions', summary: 'List functions of every namespace the token may see', responses: { 200: { description: 'functions', ...json(list('FunctionView')) }, ...errors } }
      },
      '/apis/roost.dev/v1/namespaces/{namespace}/functions': {
        parameters: [namespace],
        get: { operationId: 'listNamespacedFunctions', summary: 'List functions of a namespace', responses: { 200: { description: 'functions', ...json(list('FunctionView')) }, ...errors } }
      },
      '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}': {
        parameters: [namespace, name],
        get: { operationId: 'readFunction', summary: 'Read a function with its status', responses: { 200: { description: 'the function', ...json(ref('FunctionView')) }, ...errors } },
        put: {
          operationId: 'applyFunction',
          summary: 'Apply a function: create it or update it; a change of code or configuration makes a new immutable version',
          parameters: [DRY_RUN_PARAMETER],
          requestBody: { required: true, ...json(ref('ApplyRequest')) },
          responses: { 200: { description: 'configured or unchanged', ...json(ref('ApplyResponse')) }, 201: { description: 'created', ...json(ref('ApplyResponse')) }, ...errors }
        },
        delete: { operationId: 'deleteFunction', summary: 'Delete a function, its versions, logs and instances', responses: { 200: { description: 'deleted', ...json({ type: 'object', properties: { result: { const: 'deleted' }, name: { type: 'string' }, namespace: { type: 'string' } } }) }, ...errors } }
      },
      '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/versions': {
        parameters: [namespace, name],
        get: { operationId: 'listVersions', summary: 'List the versions of a function, with their share of traffic', responses: { 200: { description: 'versions', ...json(list('Version')) }, ...errors } }
      },
      '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/rollback': {
        parameters: [namespace, name],
        post: {
          operationId: 'rollbackFunction',
          summary: 'Move all traffic to an earlier version at once',
          requestBody: { required: false, ...json({ type: 'object', properties: { to: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^v?\\d+$' }], description: 'the version; default: the one before the version serving now' } } }) },
          responses: { 200: { description: 'rolled back', ...json({ type: 'object', properties: { result: { const: 'rolled back' }, from: { type: 'integer' }, to: { type: 'integer' }, function: ref('FunctionView') } }) }, ...errors }
        }
      },
      '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/events': {
        parameters: [namespace, name, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0 } }],
        get: { operationId: 'listFunctionEvents', summary: 'Recent events of a function (versions, instances, scaling decisions, rollbacks)', responses: { 200: { description: 'events', ...json(list('Event')) }, ...errors } }
      },
      '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/logs': {
        parameters: [
          namespace, name,
          { name: 'since', in: 'query', schema: { type: 'string', pattern: '^\\d+(ms|s|m|h)$' }, description: 'only lines newer than this' },
          { name: 'afterId', in: 'query', schema: { type: 'integer' } },
          { name: 'limit', in: 'query', schema: { type: 'integer' } },
          { name: 'follow', in: 'query', schema: { type: 'boolean' }, description: 'stream lines as application/x-ndjson until the client disconnects' }
        ],
        get: {
          operationId: 'readLogs',
          summary: 'What the function wrote (console.*, ctx.log, stdout/stderr, platform notes)',
          responses: {
            200: {
              description: 'log lines; with follow=true a stream of application/x-ndjson that ends when the client disconnects',
              content: {
                'application/json': { schema: list('LogLine') },
                'application/x-ndjson': { schema: ref('LogLine'), description: 'one LogLine as JSON per line, the backlog first; empty lines are heartbeats' }
              }
            },
            ...errors
          }
        }
      },
      '/apis/roost.dev/v1/instances': {
        parameters: [{ name: 'namespace', in: 'query', schema: { type: 'string' } }],
        get: { operationId: 'listInstances', summary: 'List running instances', responses: { 200: { description: 'instances', ...json(list('Instance')) }, ...errors } }
      },
      '/apis/roost.dev/v1/namespaces/{namespace}/tokens': {
        ...MORE_PATHS['/apis/roost.dev/v1/namespaces/{namespace}/tokens'],
        parameters: [namespace],
        post: { operationId: 'createToken', summary: 'Create a token limited to one namespace (admin only)', requestBody: { required: false, ...json({ type: 'object', properties: { description: { type: 'string' } } }) }, responses: { 201: { description: 'the token, shown once', ...json({ type: 'object', properties: { id: { type: 'string' }, namespace: { type: 'string' }, token: { type: 'string' } } }) }, ...errors } }
      },
      ...routeReservationPaths,
      ...secretPaths,
      ...keyPaths,
      ...invocationPaths,
      ...queuePaths,
      ...rulePaths
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Problem: { description: 'An error', content: { 'application/problem+json': { schema: ref('Problem') } } },
        Unauthorized: {
          description: 'No token, or one this platform does not know',
          headers: { 'WWW-Authenticate': { description: 'the scheme to authenticate with (RFC 9110 §11.6.1)', schema: { type: 'string', const: 'Bearer realm="roost"' } } },
          content: { 'application/problem+json': { schema: ref('Problem') } }
        }
      },
      schemas: {
        FunctionManifest: strictManifestSchema(),
        ...ruleSchemas,
        ApplyRequest: {
          type: 'object',
          required: ['manifest'],
          properties: {
            manifest: ref('FunctionManifest'),
            bundle: { type: 'object', required: ['code'], properties: { code: { type: 'string', description: 'the ES module esbuild made of a source path' } } }
          }
        },
        ApplyResponse: {
          type: 'object',
          properties: {
            result: { enum: ['created', 'configured', 'unchanged'] },
            version: { type: 'integer' },
            newVersion: { type: 'boolean' },
            function: ref('FunctionView')
          }
        },
        FunctionView: {
          type: 'object',
          properties: {
            apiVersion: { const: 'roost.dev/v1' },
            kind: { const: 'Function' },
            metadata: { type: 'object' },
            spec: { type: 'object' },
            status: {
              type: 'object',
              properties: {
                latestVersion: { type: 'integer' },
                traffic: { type: 'array', description: 'the traffic the spec asks for', items: trafficTarget },
                serving: { type: 'array', description: 'the traffic routed now; it stays on the serving versions until a new one has a ready instance', items: trafficTarget },
                instances: { type: 'object', properties: { desired: { type: 'integer' }, ready: { type: 'integer' }, starting: { type: 'integer' }, draining: { type: 'integer' } } },
                versions: {
                  type: 'array',
                  description: 'Per version the autoscaler scales or that has instances: desired and actual counts, panic mode, the load it scales on, its last decision',
                  items: {
                    type: 'object',
                    properties: {
                      version: { type: 'integer' },
                      desired: { type: 'integer' },
                      ready: { type: 'integer' },
                      starting: { type: 'integer' },
                      draining: { type: 'integer' },
                      panic: { type: 'boolean' },
                      observed: { type: 'object', properties: { concurrency: { type: 'number' }, rps: { type: 'number' } } },
                      lastScale: { type: ['object', 'null'], properties: { time: { type: 'string' }, message: { type: 'string' } } },
                      conditions: { type: 'array', description: 'Ready: False with reason StartFailed and the cause when the version cannot start', items: condition }
                    }
                  }
                },
                conditions: { type: 'array', description: 'Ready and RolledOut, each True or False with a reason and a message', items: condition }
              }
            }
          }
        },
        Version: { type: 'object', properties: { number: { type: 'integer' }, name: { type: 'string' }, bundleHash: { type: 'string' }, config: { type: 'object' }, createdAt: { type: 'string' }, traffic: { type: 'integer' }, tag: { type: ['string', 'null'] } } },
        Event: { type: 'object', properties: { id: { type: 'integer' }, time: { type: 'string' }, namespace: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' }, type: { enum: ['Normal', 'Warning'] }, reason: { type: 'string' }, message: { type: 'string' } } },
        LogLine: { type: 'object', properties: { id: { type: 'integer' }, time: { type: 'integer' }, namespace: { type: 'string' }, function: { type: 'string' }, instance: { type: 'string' }, version: { type: 'integer' }, requestId: { type: ['string', 'null'] }, level: { enum: ['debug', 'info', 'warn', 'error'] }, stream: { enum: ['console', 'ctx', 'stdout', 'stderr', 'system'] }, message: { type: 'string' } } },
        Instance: { type: 'object', properties: { id: { type: 'string' }, namespace: { type: 'string' }, function: { type: 'string' }, version: { type: 'integer' }, state: { enum: ['starting', 'ready', 'draining'] }, pid: { type: ['integer', 'null'] }, inFlight: { type: 'integer', description: 'requests in flight, as last reported by the gateway' }, pooled: { type: 'boolean', description: 'started from the warm pool' }, startedAt: { type: 'integer' }, readyAt: { type: ['integer', 'null'] } } },
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', description: 'stable error code, e.g. ROOST_E_VALIDATION' },
            hint: { type: 'string' },
            field: { type: 'string', description: 'the field path a validation error is about, e.g. spec.scale.max' },
            line: { type: 'integer' },
            column: { type: 'integer' },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } }
          }
        }
      }
    }
  }
}
