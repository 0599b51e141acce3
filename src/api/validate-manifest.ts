// A document of any kind `roost apply -f` takes: a Function or one of the
// OpenSergo kinds, each validated by its own schema. An unknown kind is an
// UnknownKindError that lists what is served and suggests the nearest kind.

import { ValidationError } from '../errors/index.js'
import type { FunctionResource } from './function-schema.js'
import { isRecord, show } from './schema-problems.js'
import { checkKind, looksLikeRule, SERVED_KINDS } from './served-kinds.js'
import { validateFunction } from './validate.js'
import { validateRule, type RuleManifest } from './validate-rule.js'

export type ValidatedManifest =
  | { type: 'function', resource: FunctionResource }
  | { type: 'rule', resource: RuleManifest }

export function validateManifest (doc: unknown): ValidatedManifest {
  if (!isRecord(doc)) {
    throw new ValidationError([{ field: '', message: `expected a mapping with apiVersion, kind, metadata and spec, got ${show(doc)}` }])
  }
  checkKind(doc, SERVED_KINDS)
  return looksLikeRule(doc) ? { type: 'rule', resource: validateRule(doc) } : { type: 'function', resource: validateFunction(doc) }
}
