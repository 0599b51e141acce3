// Validation of the OpenSergo kinds, as of Functions: the kind first, then the
// kind's schema, then what the schema cannot say, read by the governance
// part's normalizeRule (the compiler's own reading). Every problem comes with
// the dotted path of its field, which the CLI turns into a line and column.
// What a rule names (strategies, a fallback) is not looked up here: a rule
// may come before what it names, and one whose names resolve to nothing is
// stored and reported on its status instead.

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { ValidationError, type FieldProblem } from '../errors/index.js'
import { normalizeRule, OPENSERGO_DURATION_PATTERN, RULE_KINDS, type RuleKind, type RuleResource, type RuleSpecs } from '../governance/index.js'
import { DNS_LABEL_PATTERN, LABEL_KEY_PATTERN } from './schema-parts.js'
import { GOVERNANCE_EXPLAINERS } from './governance-schema.js'
import { RULE_DEFAULT_NAMESPACE, ruleManifestSchema } from './rule-schemas.js'
import { isRecord, ProblemList, schemaProblems, show, type Explainers } from './schema-problems.js'
import { checkKind, RULE_RESOURCES } from './served-kinds.js'

/** A rule as stored and shown: its namespace filled in, its spec as written. */
export interface RuleManifest<K extends RuleKind = RuleKind> {
  apiVersion: string
  kind: K
  metadata: { name: string, namespace: string, labels: Record<string, string> }
  spec: RuleSpecs[K]
}

const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true })
// Compiled on first use: a CLI run that applies only Functions pays for none of them.
const checks = new Map<RuleKind, ValidateFunction>()

const explainers: Explainers = {
  strings: {
    [DNS_LABEL_PATTERN]: (got) => `${got} is not a valid name: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)`,
    [OPENSERGO_DURATION_PATTERN]: (got) => `expected a duration such as "1s", "500ms", "5min", "1h" or "1d", got ${got}`,
    ...GOVERNANCE_EXPLAINERS.strings
  },
  keys: {
    [LABEL_KEY_PATTERN]: (got) => `${got} is not a valid label key: use an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`,
    ...GOVERNANCE_EXPLAINERS.keys
  }
}

export function validateRule (doc: unknown): RuleManifest {
  if (!isRecord(doc)) {
    throw new ValidationError([{ field: '', message: `expected a mapping with apiVersion, kind, metadata and spec, got ${show(doc)}` }])
  }
  checkKind(doc, RULE_KINDS.map((kind) => RULE_RESOURCES[kind]))
  if (typeof doc.kind !== 'string') {
    const kinds = RULE_KINDS.filter((kind) => RULE_RESOURCES[kind].apiVersion === doc.apiVersion)
    throw new ValidationError([{ field: 'kind', message: `required: one of ${kinds.join(', ')}` }])
  }
  const kind = doc.kind as RuleKind
  const check = checkOf(kind)
  const problems = new ProblemList()
  if (!check(doc)) {
    problems.add(schemaProblems(doc, check.errors ?? [], explainers))
    throw new ValidationError(problems.list())
  }
  const manifest = normalized(doc as unknown as RuleManifest)
  const found: FieldProblem[] = []
  normalizeRule(ruleResourceOf(manifest), (field, message) => found.push({ field, message }))
  problems.add(found)
  if (problems.size > 0) throw new ValidationError(problems.list())
  return manifest
}

/** The rule as the store and the compiler hold it. */
export function ruleResourceOf (manifest: RuleManifest): RuleResource {
  const { kind, metadata, spec } = manifest
  return { kind, namespace: metadata.namespace, name: metadata.name, labels: metadata.labels, spec } as RuleResource
}

function checkOf (kind: RuleKind): ValidateFunction {
  let check = checks.get(kind)
  if (check === undefined) {
    check = ajv.compile(ruleManifestSchema(kind))
    checks.set(kind, check)
  }
  return check
}

// A fresh object, nothing shared with the input: the caller may change it (`-n` does).
function normalized (m: RuleManifest): RuleManifest {
  return {
    apiVersion: m.apiVersion,
    kind: m.kind,
    metadata: { name: m.metadata.name, namespace: m.metadata.namespace ?? RULE_DEFAULT_NAMESPACE, labels: { ...m.metadata.labels } },
    spec: structuredClone(m.spec)
  }
}
