import { errors, json, ref } from './openapi-parts.js'
// The OpenAPI paths of the route files beside server.ts (routes.ts): namespaces,
// tokens, events and the watch feed. openapi.ts merges them into the document.

const namespace = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }
const limit = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'the newest N (default 100)' }
const items = (schema: object): object => ({ type: 'object', properties: { items: { type: 'array', items: schema } } })

const namespaceView = {
  type: 'object',
  properties: {
    apiVersion: { const: 'roost.dev/v1' },
    kind: { const: 'Namespace' },
    metadata: { type: 'object', properties: { name: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } }, creationTimestamp: { type: ['string', 'null'] } } },
    status: { type: 'object', properties: { phase: { const: 'Active' }, functions: { type: 'integer' }, rules: { type: 'integer' }, tokens: { type: 'integer' } } }
  }
}
const tokenView = {
  type: 'object',
  properties: { id: { type: 'string' }, namespace: { type: 'string', description: '"*" for an admin token' }, description: { type: ['string', 'null'] }, createdAt: { type: 'string' }, current: { type: 'boolean', description: 'the token of this request' } }
}
const event = { $ref: '#/components/schemas/Event' }
const watchEvent = {
  type: 'object',
  description: 'one line of application/x-ndjson; an empty line is a heartbeat',
  properties: { type: { enum: ['ADDED', 'MODIFIED', 'DELETED'] }, object: { $ref: '#/components/schemas/FunctionView' } }
}
const ndjson = { description: 'a line per change until the client disconnects', content: { 'application/x-ndjson': { schema: watchEvent } } }

export const MORE_PATHS: Record<string, object> = {
  '/apis/roost.dev/v1/namespaces': {
    get: { operationId: 'listNamespaces', summary: 'List the namespaces the token may see: created ones, those holding functions, and default', responses: { 200: { description: 'namespaces', ...json(items(namespaceView)) }, ...errors } },
    post: {
      operationId: 'createNamespace',
      summary: 'Create a namespace (admin only)',
      requestBody: { required: true, ...json({ type: 'object', required: ['metadata'], properties: { metadata: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } } } } }) },
      responses: { 201: { description: 'created', ...json(namespaceView) }, ...errors }
    }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}': {
    parameters: [namespace],
    get: { operationId: 'readNamespace', summary: 'Read a namespace', responses: { 200: { description: 'the namespace', ...json(namespaceView) }, ...errors } },
    delete: {
      operationId: 'deleteNamespace',
      summary: 'Delete a namespace and its tokens (admin only); refused while it holds functions or governance rules unless cascade=true, which deletes them too',
      parameters: [{ name: 'cascade', in: 'query', schema: { type: 'boolean' } }],
      responses: { 200: { description: 'deleted' }, ...errors }
    }
  },
  '/apis/roost.dev/v1/tokens': {
    get: { operationId: 'listTokens', summary: 'List tokens: all for the admin, those of its namespace for a namespace token', responses: { 200: { description: 'tokens (never their secret)', ...json(items(tokenView)) }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/tokens': {
    parameters: [namespace],
    get: { operationId: 'listNamespaceTokens', summary: 'List the tokens of a namespace', responses: { 200: { description: 'tokens', ...json(items(tokenView)) }, ...errors } }
  },
  '/apis/roost.dev/v1/tokens/{id}': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    delete: { operationId: 'revokeToken', summary: 'Revoke a token; an admin token cannot revoke itself', responses: { 200: { description: 'revoked' }, ...errors } }
  },
  '/apis/roost.dev/v1/events': {
    parameters: [limit],
    get: { operationId: 'listEvents', summary: 'Events of every namespace the token may see', responses: { 200: { description: 'events', ...json(items(event)) }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/events': {
    parameters: [namespace, limit],
    get: { operationId: 'listNamespaceEvents', summary: 'Events of a namespace', responses: { 200: { description: 'events', ...json(items(event)) }, ...errors } }
  },
  '/apis/roost.dev/v1/watch/functions': {
    get: { operationId: 'watchFunctions', summary: 'Watch the functions of every namespace the token may see', responses: { 200: ndjson, ...errors } }
  },
  '/apis/roost.dev/v1/watch/namespaces/{namespace}/functions': {
    parameters: [namespace],
    get: { operationId: 'watchNamespaceFunctions', summary: 'Watch the functions of a namespace', responses: { 200: ndjson, ...errors } }
  }
}

/** The query parameter of a dry-run apply. */
export const DRY_RUN_PARAMETER = { name: 'dryRun', in: 'query', schema: { enum: ['All', 'true'] }, description: 'validate and build, check routes and traffic, store nothing; the answer says what would happen' }
