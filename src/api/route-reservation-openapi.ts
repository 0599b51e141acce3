import { errors, json } from './openapi-parts.js'
// The OpenAPI description of the route-reservation routes, spread into
// openapi.ts's paths: a file of its own so that it changes apart from the rest.

const reservation = {
  type: 'object',
  properties: {
    prefix: { type: 'string', description: 'a path such as /team-a: the prefix, everything under it and above it' },
    namespace: { type: 'string' },
    createdAt: { type: 'string' }
  }
}

export const routeReservationPaths = {
  '/apis/roost.dev/v1/route-reservations': {
    get: {
      operationId: 'listRouteReservations',
      summary: 'List path prefixes reserved for a namespace',
      responses: { 200: { description: 'reservations', content: { 'application/json': { schema: { type: 'object', properties: { items: { type: 'array', items: reservation } } } } } }, ...errors }
    },
    put: {
      operationId: 'reserveRoute',
      summary: 'Reserve a path prefix for a namespace: only its functions may route at, under or above it (admin only)',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['prefix', 'namespace'], properties: { prefix: { type: 'string' }, namespace: { type: 'string' } } } } } },
      responses: {
        200: { description: 'unchanged' },
        201: { description: 'reserved', content: { 'application/json': { schema: { type: 'object', properties: { result: { enum: ['reserved', 'unchanged'] }, reservation } } } } },
        ...errors
      }
    },
    delete: {
      operationId: 'releaseRoute',
      summary: 'Release a reserved prefix (admin only)',
      parameters: [{ name: 'prefix', in: 'query', required: true, schema: { type: 'string' } }],
      responses: { 200: { description: 'released' }, ...errors }
    }
  }
} as const
