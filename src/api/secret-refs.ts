import { ValidationError, type FieldProblem } from '../errors/index.js'
import type { Store } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'

// How a Function's env refers to Secrets, and what those references resolve to
// when a version is made. A reference to a secret or key that does not exist is
// refused at apply, naming the field, as a typo in any other field is.

export const SECRET_KIND = 'Secret'

/** A Secret as stored: its values (sealed at rest by the store, as env values are). */
export interface SecretSpec {
  data: Record<string, string>
}

/** The references of a version, and the resourceVersion of each secret when its values were read. */
export interface SecretRefs {
  env: Record<string, { name: string, key: string }>
  envFrom: string[]
  versions: Record<string, number>
}

export interface ResolvedSecrets {
  refs: SecretRefs
  /** Variable name to value, after `env` wins over `envFrom` and a later envFrom over an earlier one. */
  values: Record<string, string>
}

/** The names of the secrets a spec refers to, each once, in order of first use. */
export function secretNamesOf (spec: Pick<FunctionSpec, 'env' | 'envFrom'>): string[] {
  const names = new Set<string>()
  for (const source of spec.envFrom ?? []) names.add(source.secretRef.name)
  for (const value of Object.values(spec.env)) if (typeof value !== 'string') names.add(value.valueFrom.secretKeyRef.name)
  return [...names]
}

export type SecretLookup = (name: string) => { data: Record<string, string>, resourceVersion: number } | undefined

/** Reads the values a spec refers to; undefined when it refers to no secret. Throws a ValidationError naming each bad reference. */
export function resolveSecrets (spec: Pick<FunctionSpec, 'env' | 'envFrom'>, lookup: SecretLookup): ResolvedSecrets | undefined {
  if (secretNamesOf(spec).length === 0) return undefined
  const problems: FieldProblem[] = []
  const refs: SecretRefs = { env: {}, envFrom: [], versions: {} }
  const values = Object.create(null) as Record<string, string> // a key such as __proto__ stays a key
  const read = (name: string, field: string): Record<string, string> | undefined => {
    const secret = lookup(name)
    if (secret === undefined) {
      problems.push({ field, message: `secret ${name} does not exist in this namespace; create it with \`roost secret create ${name} --from-literal KEY=VALUE\`` })
      return undefined
    }
    refs.versions[name] = secret.resourceVersion
    return secret.data
  }
  for (const [index, source] of (spec.envFrom ?? []).entries()) {
    const name = source.secretRef.name
    refs.envFrom.push(name)
    const data = read(name, `spec.envFrom[${index}].secretRef`)
    if (data !== undefined) Object.assign(values, data)
  }
  for (const [variable, value] of Object.entries(spec.env)) {
    if (typeof value === 'string') {
      delete values[variable] // a literal wins over envFrom
      continue
    }
    const { name, key } = value.valueFrom.secretKeyRef
    refs.env[variable] = { name, key }
    const field = `spec.env.${variable}.valueFrom.secretKeyRef`
    const data = read(name, field)
    if (data === undefined) continue
    if (!Object.hasOwn(data, key)) {
      problems.push({ field, message: `secret ${name} has no key ${key}; it has ${Object.keys(data).sort().join(', ') || 'none'}` })
      continue
    }
    values[variable] = data[key]
  }
  if (problems.length > 0) throw new ValidationError(problems)
  return { refs, values }
}

/** The lookup of a namespace's secrets in the store. */
export function storeSecrets (store: Store, namespace: string): SecretLookup {
  return (name) => {
    const found = store.getResource<SecretSpec>(SECRET_KIND, namespace, name)
    return found === undefined ? undefined : { data: found.spec.data, resourceVersion: found.resourceVersion }
  }
}
