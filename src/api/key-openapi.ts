import { errors, json } from './openapi-parts.js'
// The OpenAPI description of the API-key routes, spread into openapi.ts's paths.
// Only the answer that creates a key carries it; every other shows its id.

const namespace = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'the function' }
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^rk_[0-9a-f]{12}$' }, description: 'the key\'s id, rk_ and 12 hex digits' }

const keyView = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'the public part of the key: the caller\'s identity (key:<id>)' },
    namespace: { type: 'string' },
    function: { type: 'string' },
    name: { type: ['string', 'null'], description: 'the label given at creation' },
    createdAt: { type: 'string' },
    expiresAt: { type: ['string', 'null'], description: 'absent: never expires' },
    expired: { type: 'boolean' }
  }
}
const list = json({ type: 'object', properties: { items: { type: 'array', items: keyView } } })
const created = json({
  type: 'object',
  properties: {
    ...keyView.properties,
    key: { type: 'string', description: 'rk_<id>_<secret>: shown this once; the platform keeps its SHA-256 only' },
    warnings: { type: 'array', items: { type: 'string' }, description: 'e.g. that the function does not ask for keys yet' }
  }
})
const revoked = json({ type: 'object', properties: { result: { const: 'revoked' }, id: { type: 'string' }, namespace: { type: 'string' }, function: { type: 'string' } } })

export const keyPaths = {
  '/apis/roost.dev/v1/keys': {
    get: { operationId: 'listAllApiKeys', summary: 'List the API keys of every namespace the token may see (never the keys themselves)', responses: { 200: { description: 'keys', ...list }, ...errors } }
  },
  '/apis/roost.dev/v1/keys/{id}': {
    parameters: [id],
    delete: { operationId: 'revokeApiKey', summary: 'Revoke an API key by its id, in any namespace the token may see; the gateway refuses it from the next routing table on', responses: { 200: { description: 'revoked', ...revoked }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/keys': {
    parameters: [namespace, { name: 'function', in: 'query', schema: { type: 'string' }, description: 'only the keys of this function' }],
    get: { operationId: 'listApiKeys', summary: 'List the API keys of a namespace', responses: { 200: { description: 'keys', ...list }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/keys/{id}': {
    parameters: [namespace, id],
    delete: { operationId: 'revokeNamespacedApiKey', summary: 'Revoke an API key of a namespace', responses: { 200: { description: 'revoked', ...revoked }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/keys': {
    parameters: [namespace, name],
    get: { operationId: 'listFunctionApiKeys', summary: 'List the API keys of a function', responses: { 200: { description: 'keys', ...list }, ...errors } },
    post: {
      operationId: 'createApiKey',
      summary: 'Create an API key for a function (spec.http.auth: key); the answer is the only place the key appears',
      requestBody: {
        required: false,
        ...json({
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100, description: 'a label, such as who the key is for' },
            expires: { type: 'string', pattern: '^[0-9]{1,7}(m|h|d)$', description: 'lifetime from now, 1m to 3650d, such as "30d"; absent: never expires' }
          },
          additionalProperties: false
        })
      },
      responses: { 201: { description: 'the key, shown once', ...created }, ...errors }
    }
  }
} as const
