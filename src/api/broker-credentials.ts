// A broker trigger's credentials: named by `auth.secret`, checked on apply
// (as env's secret references are), and joined into the connector's URL only
// in memory when the trigger starts, so no stored or shown resource holds them.
import { ValidationError, type FieldProblem } from '../errors/index.js'
import type { Store } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'
import { storeSecrets, type SecretLookup } from './secret-refs.js'

/** The keys a broker Secret may hold. */
export const BROKER_SECRET_KEYS = ['username', 'password', 'token'] as const

/** What is wrong with the `auth.secret` references of a spec's broker triggers. */
export function brokerSecretProblems (spec: Pick<FunctionSpec, 'triggers'>, lookup: SecretLookup): FieldProblem[] {
  const problems: FieldProblem[] = []
  for (const [index, trigger] of (spec.triggers ?? []).entries()) {
    if (!('queue' in trigger) || trigger.queue.auth === undefined) continue
    const name = trigger.queue.auth.secret
    const field = `spec.triggers[${index}].queue.auth.secret`
    const secret = lookup(name)
    if (secret === undefined) {
      problems.push({ field, message: `secret ${name} does not exist in this namespace; create it with \`roost secret create ${name} --from-literal username=USER --from-literal password=PASSWORD\`` })
      continue
    }
    if (!Object.hasOwn(secret.data, 'password') && !Object.hasOwn(secret.data, 'token')) {
      problems.push({ field, message: `secret ${name} has neither password nor token; it has ${Object.keys(secret.data).sort().join(', ') || 'none'}` })
    }
  }
  return problems
}

/** Throws a ValidationError naming each broker secret reference that does not resolve. */
export function checkBrokerSecrets (store: Store, namespace: string, spec: Pick<FunctionSpec, 'triggers'>): void {
  const problems = brokerSecretProblems(spec, storeSecrets(store, namespace))
  if (problems.length > 0) throw new ValidationError(problems)
}

/**
 * The URL the connector dials: the trigger's, with the Secret's user and
 * password (or token, as the user part, as NATS reads it). Undefined when the
 * Secret is gone since the apply: the trigger then waits with a condition.
 */
export function brokerUrl (url: string, secretName: string | undefined, lookup: SecretLookup): string | undefined {
  if (secretName === undefined) return url
  const data = lookup(secretName)?.data
  if (data === undefined) return undefined
  const parsed = new URL(url)
  if (data.password !== undefined) {
    parsed.username = encodeURIComponent(data.username ?? '')
    parsed.password = encodeURIComponent(data.password)
  } else if (data.token !== undefined) {
    parsed.username = encodeURIComponent(data.token)
  } else {
    return undefined
  }
  return parsed.toString()
}

/** A URL as logs and messages may show it: user and password replaced. */
export function redactedUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.username === '' && parsed.password === '') return url
    parsed.username = '***'
    parsed.password = ''
    return parsed.toString()
  } catch {
    return '(a URL that does not parse)'
  }
}
