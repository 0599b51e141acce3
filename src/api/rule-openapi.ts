import { RULE_KINDS, type RuleKind } from '../governance/index.js'
import { errors, json, ref } from './openapi-parts.js'
import { ruleManifestSchema } from './rule-schemas.js'
import { RULE_RESOURCES } from './served-kinds.js'
// The OpenAPI description of the governance rule routes (rule-routes.ts),
// spread into openapi.ts: per OpenSergo kind its Kubernetes-style paths, and
// Roost's views of every rule and of one function's compiled rules.

const namespace = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } }
const dryRun = { name: 'dryRun', in: 'query', schema: { enum: ['All', 'true'] }, description: 'validate and report the status it would have, storing nothing' }
const list = json({ type: 'object', properties: { items: { type: 'array', items: ref('RuleView') } } })

function kindPaths (kind: RuleKind): Record<string, object> {
  const { apiVersion, plural } = RULE_RESOURCES[kind]
  const plain = kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`
  const written = json({ type: 'object', properties: { result: { enum: ['created', 'configured', 'unchanged'] }, dryRun: { type: 'boolean' }, rule: ref('RuleView') } })
  return {
    [`/apis/${apiVersion}/${plural}`]: {
      get: { operationId: `listAll${plain}`, summary: `List the ${kind} objects of every namespace the token may see`, responses: { 200: { description: 'rules with their status', ...list }, ...errors } }
    },
    [`/apis/${apiVersion}/namespaces/{namespace}/${plural}`]: {
      parameters: [namespace],
      get: { operationId: `list${plain}`, summary: `List the ${kind} objects of a namespace`, responses: { 200: { description: 'rules with their status', ...list }, ...errors } }
    },
    [`/apis/${apiVersion}/namespaces/{namespace}/${plural}/{name}`]: {
      parameters: [namespace, name],
      get: { operationId: `read${kind}`, summary: `Read a ${kind} with its status (the functions it applies to, the names it uses that resolve to nothing)`, responses: { 200: { description: 'the rule', ...json(ref('RuleView')) }, ...errors } },
      put: {
        operationId: `apply${kind}`,
        summary: `Create or update a ${kind}; names it uses need not exist yet, and those that do not are reported in its status`,
        parameters: [dryRun],
        requestBody: { required: true, ...json({ type: 'object', required: ['manifest'], properties: { manifest: ref(`${kind}Manifest`) } }) },
        responses: { 200: { description: 'configured or unchanged', ...written }, 201: { description: 'created', ...written }, ...errors }
      },
      delete: { operationId: `delete${kind}`, summary: `Delete a ${kind}; rules that name it report it missing`, responses: { 200: { description: 'deleted' }, ...errors } }
    }
  }
}

export const rulePaths: Record<string, object> = {
  ...Object.assign({}, ...RULE_KINDS.map(kindPaths)) as Record<string, object>,
  '/apis/roost.dev/v1/rules': {
    get: { operationId: 'listAllRules', summary: 'List the governance rules of every kind and every namespace the token may see', responses: { 200: { description: 'rules with their status', ...list }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/rules': {
    parameters: [namespace],
    get: { operationId: 'listRules', summary: 'List the governance rules of every kind in a namespace', responses: { 200: { description: 'rules with their status', ...list }, ...errors } }
  },
  '/apis/roost.dev/v1/namespaces/{namespace}/functions/{name}/governance': {
    parameters: [namespace, name],
    get: {
      operationId: 'readFunctionGovernance',
      summary: 'The governance that applies to a function: its own spec.governance and every rule that selects it, compiled as the gateway applies it, with the problems found',
      responses: { 200: { description: 'the compiled policy', ...json(ref('FunctionGovernance')) }, ...errors }
    }
  }
}

const strings = { type: 'object', additionalProperties: { type: 'string' } }
const problem = { type: 'object', properties: { rule: { type: 'string' }, message: { type: 'string' } } }

export const ruleSchemas: Record<string, object> = {
  ...Object.fromEntries(RULE_KINDS.map((kind) => [`${kind}Manifest`, JSON.parse(JSON.stringify(ruleManifestSchema(kind))) as object])),
  RuleView: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { enum: [...RULE_KINDS] },
      metadata: { type: 'object', properties: { name: { type: 'string' }, namespace: { type: 'string' }, labels: strings, uid: { type: 'string' }, resourceVersion: { type: 'string' }, generation: { type: 'integer' }, creationTimestamp: { type: 'string' }, updateTimestamp: { type: 'string' } } },
      spec: { type: 'object', description: 'as written' },
      status: {
        type: 'object',
        properties: {
          functions: { type: 'array', items: { type: 'string' }, description: 'the functions it applies to; for a strategy or fallback, through the rules that name it' },
          problems: { type: 'array', items: problem, description: 'what cannot be applied as written, such as a strategy that does not exist' },
          conditions: { type: 'array', items: { type: 'object', properties: { type: { enum: ['Resolved', 'Applied'] }, status: { enum: ['True', 'False'] }, reason: { type: 'string' }, message: { type: 'string' } } } }
        }
      }
    }
  },
  FunctionGovernance: {
    type: 'object',
    properties: {
      function: { type: 'string' },
      namespace: { type: 'string' },
      policy: { type: 'object', description: 'the FunctionPolicy the gateway applies (rules, retry, lanes; of caller identity only the mode)', properties: { rules: { type: 'array', items: { type: 'object' } }, retry: { type: 'object' }, lanes: { type: 'array', items: { type: 'object' } }, auth: { type: 'object', properties: { mode: { type: 'string' } } } } },
      problems: { type: 'array', items: problem },
      sources: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, name: { type: 'string' }, field: { type: 'string' } } } }
    }
  }
}
