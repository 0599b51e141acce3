// Writes schema/function.schema.json and schema/opensergo-rules.schema.json (npm run
// schema). A test fails when a committed file differs from what the code generates, so
// run this after changing a schema.

import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { functionJsonSchemaText, rulesJsonSchemaText } from '../src/api/schema-document.js'

// Compiled to dist/scripts/, so the repository root is two folders up.
const target = fileURLToPath(new URL('../../schema/function.schema.json', import.meta.url))
mkdirSync(fileURLToPath(new URL('../../schema/', import.meta.url)), { recursive: true })
writeFileSync(target, functionJsonSchemaText())
console.log(`wrote ${target}`)
const rules = fileURLToPath(new URL('../../schema/opensergo-rules.schema.json', import.meta.url))
writeFileSync(rules, rulesJsonSchemaText())
console.log(`wrote ${rules}`)
