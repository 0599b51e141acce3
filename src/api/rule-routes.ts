import type { FunctionGovernanceState } from '../gateway/index.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { BadRequestError, NotFoundError } from '../errors/index.js'
import { compileGovernance, functionKey, RULE_KINDS, type CallerAuth, type FunctionPolicy, type RuleKind } from '../governance/index.js'
import type { Store } from '../store/index.js'
import { applyRule } from './apply-rule.js'
import { dryRunQuery } from './dry-run.js'
import type { FunctionSpec } from './function-schema.js'
import type { RouteDeps } from './live-functions.js'
import { callerOf, checkName, checkedNamespace } from './route-params.js'
import { governedFunctionOf, listRules, ruleOf } from './rule-store.js'
import { viewRules, type RuleView } from './rule-view.js'
import { RULE_RESOURCES } from './served-kinds.js'

// The OpenSergo kinds, at the paths Kubernetes would give them
// (/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>), and two views
// of Roost's own: every rule of every kind (`roost get rules`), and the rules
// that apply to one function, compiled (`roost describe function`). A namespace
// token reaches its namespace only. After a write the answer waits for the
// gateway to route what the store holds, as a function's apply does, so a rule
// is in force once it is acknowledged.

const V1 = '/apis/roost.dev/v1'

type NamespaceParams = { namespace: string }
type NamedParams = { namespace: string, name: string }

/** What the gateway is given, without the secrets of caller identity (keys' hashes, HMAC and JWT keys). */
export interface PublicPolicy extends Omit<FunctionPolicy, 'auth'> {
  auth: { mode: CallerAuth['mode'] }
}

export interface FunctionGovernanceView {
  function: string
  namespace: string
  policy: PublicPolicy
  problems: Array<{ rule: string, message: string }>
  sources: Array<{ kind: string, name: string, field?: string }>
  /** The gateway's live view of the rules (limiter fill, breaker state and why), as of its last report (each second); absent before one. */
  live?: FunctionGovernanceState
}

export function registerRuleRoutes (app: FastifyInstance, { store, live }: RouteDeps): void {
  for (const kind of RULE_KINDS) registerKind(app, store, kind, async () => await live.settle?.())

  app.get(`${V1}/rules`, async (request) => {
    const caller = callerOf(request)
    return { items: viewRules(store, caller.namespace === '*' ? undefined : caller.namespace) }
  })

  app.get<{ Params: NamespaceParams }>(`${V1}/namespaces/:namespace/rules`, async (request) => {
    return { items: viewRules(store, checkedNamespace(request, request.params.namespace)) }
  })

  app.get<{ Params: NamedParams }>(`${V1}/namespaces/:namespace/functions/:name/governance`, async (request) => {
    const { namespace, name } = namedParams(request)
    const view = functionGovernance(store, namespace, name)
    const state = live.governance?.(namespace, name)
    return state === undefined ? view : { ...view, live: state }
  })
}

function registerKind (app: FastifyInstance, store: Store, kind: RuleKind, settle: () => Promise<void>): void {
  const { apiVersion, plural } = RULE_RESOURCES[kind]
  const base = `/apis/${apiVersion}`

  app.get(`${base}/${plural}`, async (request) => {
    const caller = callerOf(request)
    return { items: viewRules(store, caller.namespace === '*' ? undefined : caller.namespace, kind) }
  })

  app.get<{ Params: NamespaceParams }>(`${base}/namespaces/:namespace/${plural}`, async (request) => {
    return { items: viewRules(store, checkedNamespace(request, request.params.namespace), kind) }
  })

  app.get<{ Params: NamedParams }>(`${base}/namespaces/:namespace/${plural}/:name`, async (request) => {
    const { namespace, name } = namedParams(request)
    return mustView(store, kind, namespace, name)
  })

  app.put<{ Params: NamedParams, Body: unknown, Querystring: { dryRun?: string } }>(`${base}/namespaces/:namespace/${plural}/:name`, async (request, reply) => {
    const { namespace, name } = namedParams(request)
    const dryRun = dryRunQuery(request.query.dryRun)
    const answer = applyRule(store, { kind, namespace, name }, objectBody(request.body), { dryRun })
    reply.code(answer.result === 'created' ? 201 : 200)
    if (dryRun) return { dryRun: true, ...answer }
    await settle()
    return answer
  })

  app.delete<{ Params: NamedParams }>(`${base}/namespaces/:namespace/${plural}/:name`, async (request) => {
    const { namespace, name } = namedParams(request)
    if (!store.deleteResource(kind, namespace, name)) throw notFound(kind, namespace, name)
    await settle()
    return { result: 'deleted', kind, name, namespace }
  })
}

/** The rules that apply to a function, compiled with its namespace's rules. */
export function functionGovernance (store: Store, namespace: string, name: string): FunctionGovernanceView {
  const functions = store.listResources<FunctionSpec>('Function', namespace)
  if (!functions.some((fn) => fn.name === name)) {
    throw new NotFoundError(`function ${name} not found in namespace ${namespace}`, { hint: '`roost get functions` lists what exists' })
  }
  const compiled = compileGovernance(functions.map(governedFunctionOf), listRules(store, namespace).map(ruleOf)).functions.get(functionKey({ namespace, name }))
  if (compiled === undefined) throw new NotFoundError(`function ${name} not found in namespace ${namespace}`)
  const { auth, ...rest } = compiled.policy
  return { function: name, namespace, policy: { ...rest, auth: { mode: auth.mode } }, problems: compiled.problems, sources: compiled.sources }
}

function mustView (store: Store, kind: RuleKind, namespace: string, name: string): RuleView {
  const found = viewRules(store, namespace, kind).find((rule) => rule.metadata.name === name)
  if (found === undefined) throw notFound(kind, namespace, name)
  return found
}

function notFound (kind: RuleKind, namespace: string, name: string): NotFoundError {
  return new NotFoundError(`${kind} ${name} not found in namespace ${namespace}`, { hint: `\`roost get ${RULE_RESOURCES[kind].plural} -n ${namespace}\` lists them` })
}

function namedParams (request: FastifyRequest<{ Params: NamedParams }>): NamedParams {
  const { namespace, name } = request.params
  checkedNamespace(request, namespace)
  checkName(name, 'name')
  return { namespace, name }
}

function objectBody (body: unknown): { manifest?: unknown } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('the request body must be a JSON object', { hint: 'send { "manifest": <rule> } with Content-Type: application/json' })
  }
  return body as { manifest?: unknown }
}
