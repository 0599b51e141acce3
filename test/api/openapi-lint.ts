// A lint of an OpenAPI 3.1 document, strict enough that a generated client
// works: the document's shape (checked with ajv against the parts of the 3.1
// structure it uses), every schema valid JSON Schema 2020-12, every $ref
// resolved, unique operationIds, path parameters declared both ways, and 401s
// that say how to authenticate.
import { Ajv2020 } from 'ajv/dist/2020.js'

type Node = Record<string, unknown>

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const
const OPERATION_ID = /^[A-Za-z][A-Za-z0-9_]*$/

// The OpenAPI 3.1 structure of what a document of ours may hold (objects, required fields, enums).
const reference = { type: 'object', required: ['$ref'], properties: { $ref: { type: 'string' } } }
const mediaTypes = { type: 'object', additionalProperties: { type: 'object', properties: { schema: { type: ['object', 'boolean'] }, description: { type: 'string' } }, additionalProperties: false } }
const parameter = {
  type: 'object',
  required: ['name', 'in'],
  properties: { name: { type: 'string', minLength: 1 }, in: { enum: ['path', 'query', 'header', 'cookie'] }, required: { type: 'boolean' }, description: { type: 'string' }, schema: { type: ['object', 'boolean'] } },
  additionalProperties: false,
  if: { properties: { in: { const: 'path' } } },
  then: { required: ['required'], properties: { required: { const: true } } }
}
const response = {
  oneOf: [reference, {
    type: 'object',
    required: ['description'],
    properties: { description: { type: 'string' }, headers: { type: 'object', additionalProperties: { type: 'object', properties: { description: { type: 'string' }, schema: { type: 'object' } }, additionalProperties: false } }, content: mediaTypes },
    additionalProperties: false
  }]
}
const operation = {
  type: 'object',
  required: ['responses'],
  properties: {
    operationId: { type: 'string' },
    summary: { type: 'string' },
    description: { type: 'string' },
    security: { type: 'array', items: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
    parameters: { type: 'array', items: parameter },
    requestBody: { type: 'object', required: ['content'], properties: { required: { type: 'boolean' }, description: { type: 'string' }, content: mediaTypes }, additionalProperties: false },
    responses: { type: 'object', minProperties: 1, propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' }, additionalProperties: response }
  },
  additionalProperties: false
}
export const OPENAPI_31_STRUCTURE = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' }, description: { type: 'string' } }, additionalProperties: false },
    servers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['url'],
        properties: { url: { type: 'string' }, description: { type: 'string' }, variables: { type: 'object', additionalProperties: { type: 'object', required: ['default'], properties: { default: { type: 'string' }, enum: { type: 'array', items: { type: 'string' } }, description: { type: 'string' } } } } },
        additionalProperties: false
      }
    },
    security: { type: 'array', items: { type: 'object' } },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: { type: 'object', properties: { parameters: { type: 'array', items: parameter }, ...Object.fromEntries(METHODS.map((m) => [m, operation])) }, additionalProperties: false }
    },
    components: {
      type: 'object',
      properties: {
        schemas: { type: 'object', additionalProperties: { type: ['object', 'boolean'] } },
        responses: { type: 'object', additionalProperties: response },
        securitySchemes: { type: 'object', additionalProperties: { type: 'object', required: ['type'], properties: { type: { enum: ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'] }, scheme: { type: 'string' } } } }
      },
      additionalProperties: false
    }
  },
  additionalProperties: false
}

function resolve (doc: Node, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined
  let node: unknown = doc
  for (const part of ref.slice(2).split('/')) node = (node as Node | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  return node
}

function * walk (node: unknown, path: string): Generator<[string, Node]> {
  if (node === null || typeof node !== 'object') return
  yield [path, node as Node]
  for (const [key, child] of Object.entries(node)) yield * walk(child, `${path}/${key}`)
}

/** Every problem found; empty when the document passes. */
export function lintOpenApi (input: object): string[] {
  const doc = JSON.parse(JSON.stringify(input)) as Node
  const problems: string[] = []
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  const shape = ajv.compile(OPENAPI_31_STRUCTURE)
  if (!shape(doc)) for (const e of shape.errors ?? []) problems.push(`${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)

  for (const [path, node] of walk(doc, '#')) {
    if (typeof node.$ref === 'string' && resolve(doc, node.$ref) === undefined) problems.push(`${path}: $ref ${node.$ref} does not resolve`)
  }
  // Schemas: each must compile as JSON Schema 2020-12, with the document's components beside it.
  const schemaAjv = new Ajv2020({ allErrors: true, strict: false, validateSchema: true })
  schemaAjv.addSchema({ $id: 'https://roost.invalid/openapi', components: (doc.components as Node | undefined) ?? {} } as object)
  const compile = (path: string, schema: unknown): void => {
    const text = JSON.stringify(schema).replace(/"#\/components\//g, '"https://roost.invalid/openapi#/components/')
    try {
      schemaAjv.compile(JSON.parse(text) as object)
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`)
    }
  }
  const components = ((doc.components as Node | undefined)?.schemas ?? {}) as Node
  for (const [name, schema] of Object.entries(components)) compile(`#/components/schemas/${name}`, schema)
  for (const [path, node] of walk(doc, '#')) {
    if ('schema' in node && typeof node.schema === 'object' && !path.endsWith('/properties')) compile(`${path}/schema`, node.schema)
  }

  const security = (doc.security as unknown[] | undefined) ?? []
  const operationIds = new Map<string, string>()
  for (const [route, item] of Object.entries((doc.paths ?? {}) as Record<string, Node>)) {
    const templated = new Set([...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]))
    for (const method of METHODS) {
      const op = item[method] as Node | undefined
      if (op === undefined) continue
      const where = `${method.toUpperCase()} ${route}`
      const id = op.operationId
      if (typeof id !== 'string' || !OPERATION_ID.test(id)) problems.push(`${where}: no operationId usable as a function name`)
      else if (operationIds.has(id)) problems.push(`${where}: operationId ${id} is also ${operationIds.get(id) as string}`)
      else operationIds.set(id, where)
      const params = [...((item.parameters ?? []) as Node[]), ...((op.parameters ?? []) as Node[])]
      const declared = new Set(params.filter((p) => p.in === 'path').map((p) => p.name as string))
      for (const name of templated) if (!declared.has(name)) problems.push(`${where}: path parameter {${name}} is not declared`)
      for (const name of declared) if (!templated.has(name)) problems.push(`${where}: path parameter ${name} is not in the path`)
      const seen = new Set<string>()
      for (const p of params) {
        const key = `${p.in as string}:${p.name as string}`
        if (seen.has(key)) problems.push(`${where}: parameter ${key} declared twice`)
        seen.add(key)
      }
      const secured = ((op.security as unknown[] | undefined) ?? security).length > 0
      const responses = (op.responses ?? {}) as Record<string, Node>
      if (secured) {
        const unauthorized = responses['401']
        const resolved = (typeof unauthorized?.$ref === 'string' ? resolve(doc, unauthorized.$ref) : unauthorized) as Node | undefined
        const headers = Object.keys((resolved?.headers ?? {}) as Node).map((h) => h.toLowerCase())
        if (!headers.includes('www-authenticate')) problems.push(`${where}: needs a token but its 401 declares no WWW-Authenticate`)
      }
      if (!Object.keys(responses).some((code) => code.startsWith('2'))) problems.push(`${where}: no success response`)
    }
  }
  return problems
}
