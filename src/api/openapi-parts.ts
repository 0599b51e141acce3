// Pieces every file of the OpenAPI document shares, so that each operation
// answers its errors the same way (401 with WWW-Authenticate among them).

export const problem = { $ref: '#/components/responses/Problem' }
export const errors = { 400: problem, 401: { $ref: '#/components/responses/Unauthorized' }, 403: problem, 404: problem, 409: problem, 413: problem, 422: problem }
export const json = (schema: object): object => ({ content: { 'application/json': { schema } } })
export const ref = (name: string): object => ({ $ref: `#/components/schemas/${name}` })
