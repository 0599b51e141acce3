import { errors, json } from './openapi-parts.js'
// The OpenAPI description of the secret routes, spread into openapi.ts's paths.
// No answer carries a value: a secret is shown by its keys.

const namespace = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } }

const secret = {
  type: 'object',
  properties: {
    apiVersion: { const: 'roost.dev/v1' },
    kind: { const: 'Secret' },
    metadata: { type: 'object', properties: { name: { type: 'string' }, namespace: { type: 'string' }, resourceVersion: { type: 'integer' }, creationTimestamp: { type: 'string' } } },
    keys: { type: 'array', items: { type: 'string' }, description: 'the keys, never the values' },
    usedBy: { type: 'array', items: { type: 'string' }, description: 'functions whose env refers to it' }
  }
}
const data = { type: 'object', additionalProperties: { type: 'string' }, minProperties: 1, maxProperties: 100, description: 'KEY: value; keys are environment variable names' }
const list = json({ type: 'object', properties: { items: { type: 'array', items: secret } } })
const written = json({
  type: 'object',
  properties: {
    result: { enum: ['created', 'configured', 'unchanged'] },
    secret,
    rolled: { type: 'array', description: 'the functions that got a new version', items: { type: 'object', properties: { function: { type: 'string' }, version: { type: 'integer' } } } }
  }
})

export const secretPaths = {
  '/apis/roost.dev/v1/secrets': {
    get: { operationId: 'listAllSecrets', summary: 'List the secrets of every namespace the token may see (keys only)', responses: { 200: { description: 'secrets', ...list }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/secrets': {
    parameters: [namespace],
    get: { operationId: 'listSecrets', summary: 'List the secrets of a namespace (keys only)', responses: { 200: { description: 'secrets', ...list }, ...errors } },
    post: {
      operationId: 'createSecret',
      summary: 'Create a secret; 409 if it exists',
      requestBody: { required: true, ...json({ type: 'object', required: ['metadata', 'data'], properties: { metadata: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } }, data } }) },
      responses: { 201: { description: 'created', ...written }, ...errors }
    }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/secrets/{name}': {
    parameters: [namespace, name],
    get: { operationId: 'readSecret', summary: 'Read a secret (keys and users, never values)', responses: { 200: { description: 'the secret', ...json(secret) }, ...errors } },
    put: {
      operationId: 'replaceSecret',
      summary: 'Create or replace a secret; every function that uses it gets a new version (event SecretChanged)',
      requestBody: { required: true, ...json({ type: 'object', required: ['data'], properties: { data } }) },
      responses: { 200: { description: 'replaced or unchanged', ...written }, 201: { description: 'created', ...written }, ...errors }
    },
    delete: { operationId: 'deleteSecret', summary: 'Delete a secret; 409 while a function refers to it', responses: { 200: { description: 'deleted' }, ...errors } }
  }
} as const
