import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer, openApiDocument, type EventItem, type LogLineItem } from '../../src/api/index.js'
import { Store, type LogLine, type StoredEvent } from '../../src/store/index.js'
import { lintOpenApi } from './openapi-lint.js'

type Node = Record<string, any>

const dir = mkdtempSync(join(tmpdir(), 'roost-openapi-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the OpenAPI document passes the lint', () => {
  assert.deepEqual(lintOpenApi(openApiDocument()), [])
})

test('the lint catches what breaks a generated client', () => {
  const broken = JSON.parse(JSON.stringify(openApiDocument())) as Node
  const fn = broken.paths['/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}']
  delete fn.get.operationId
  fn.put.operationId = 'listFunctions'
  fn.parameters = fn.parameters.filter((p: Node) => p.name !== 'name')
  fn.delete.responses['201'] = { content: {} }
  broken.paths['/apis/roost.dev/v1/instances'].get.responses['401'] = { $ref: '#/components/responses/Problem' }
  broken.components.schemas.Version.properties.number = { type: 'integr' }
  broken.paths['/apis/roost.dev/v1/functions'].get.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Nothing' }
  const problems = lintOpenApi(broken).join('\n')
  for (const expected of [
    /GET \/apis\/roost.dev\/v1\/namespaces\/\{namespace\}\/functions\/\{name\}: no operationId/,
    /PUT .*: operationId listFunctions is also GET \/apis\/roost.dev\/v1\/functions/,
    /path parameter \{name\} is not declared/,
    /\/delete\/responses\/201 must have required property 'description'/,
    /GET \/apis\/roost.dev\/v1\/instances: needs a token but its 401 declares no WWW-Authenticate/,
    /#\/components\/schemas\/Version: schema is invalid/,
    /\$ref #\/components\/schemas\/Nothing does not resolve/
  ]) assert.match(problems, expected)
})

test('a server, the ndjson stream of logs and WWW-Authenticate on 401 are described', () => {
  const doc = openApiDocument() as Node
  assert.match(doc.servers[0].url, /^http:\/\//)
  const logs = doc.paths['/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/logs'].get
  assert.deepEqual(Object.keys(logs.responses['200'].content).sort(), ['application/json', 'application/x-ndjson'])
  assert.ok('WWW-Authenticate' in doc.components.responses.Unauthorized.headers)
})

test('every operation of the document is a route of the server, and answers 401 with WWW-Authenticate when it needs a token', async () => {
  const store = Store.open(dir)
  const app = await createApiServer({
    store,
    live: { instances: () => [], serving: () => undefined, scaling: () => undefined, metrics: async () => '', onLogs: () => () => {} }
  })
  try {
    const doc = openApiDocument() as Node
    for (const [route, item] of Object.entries(doc.paths as Record<string, Node>)) {
      for (const method of ['get', 'put', 'post', 'delete']) {
        const op = item[method]
        if (op === undefined) continue
        const url = route.replace(/\{([^}]+)\}/g, (_, name: string) => `:${name}`)
        assert.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method.toUpperCase()} ${route} is not a route of the server`)
        if (op.security !== undefined && op.security.length === 0) continue
        const response = await app.inject({ method: method.toUpperCase() as 'GET', url: route.replace(/\{([^}]+)\}/g, 'x') })
        assert.equal(response.statusCode, 401, `${method.toUpperCase()} ${route} without a token`)
        assert.equal(response.headers['www-authenticate'], 'Bearer realm="roost"')
      }
    }
  } finally {
    await app.close()
    store.close()
  }
})

// Compile-time: the API's record types take every row the store serves.
export const storeRowsFitApiTypes: Array<(event: StoredEvent, line: LogLine) => [EventItem, LogLineItem]> = [(event, line) => [event, line]]
