// The Function manifest as a standalone JSON Schema (draft 2020-12) for editors, e.g.
// yaml-language-server with `# yaml-language-server: $schema=<url or path>` at the top of a
// manifest. Generated from FunctionManifestSchema, so it cannot drift from what the API
// accepts; rules the schema cannot express (ranges of durations, min ≤ max, …) are in the
// descriptions.

import { FunctionManifestSchema } from './function-schema.js'

export const FUNCTION_SCHEMA_ID = 'https://roost.dev/schemas/function.json'

export function functionJsonSchema (): object {
  // A JSON round trip drops TypeBox's symbol-keyed bookkeeping and shares nothing with the live schema.
  const body = JSON.parse(JSON.stringify(FunctionManifestSchema)) as Record<string, unknown>
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: FUNCTION_SCHEMA_ID,
    title: 'Roost Function',
    description: body.description, // placed here for readers of the file; the spread keeps the position
    ...body
  }
}

// The exact text of schema/function.schema.json: the writer and the staleness test share it.
export function functionJsonSchemaText (): string {
  return `${JSON.stringify(functionJsonSchema(), null, 2)}\n`
}
