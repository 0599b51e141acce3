import { ValidationError, type FieldProblem } from '../errors/index.js'
import {
  DEFAULT_SIGNED_BODY_BYTES, readHmacSecret, readJwk, readPem, webhookSecretProblem,
  type ApiKeyRecord, type CallerAuth, type JwtKey, type KeyReading
} from '../governance/index.js'
import type { Store } from '../store/index.js'
import type { FunctionSpec, HmacAuthSpec, HttpAuth, JwtAuthSpec } from './function-schema.js'
import { parseDuration } from './quantities.js'
import { storeSecrets, type SecretLookup } from './secret-refs.js'

// From a Function's `spec.http.auth` to the CallerAuth the gateway enforces:
// the Secrets it names are read, its API keys listed, its inline keys read. The
// references are checked on apply (as env's are), so a typo is refused there;
// the compile that the control plane runs later fails closed instead (a
// reference gone since refuses every caller, it never lets one through).

export const API_KEY_KIND = 'ApiKey'

/** An API key as stored (kind ApiKey, named by its id, in the function's namespace): its hash, never the key. */
export interface ApiKeySpec {
  function: string
  /** Hex SHA-256 of the whole key. */
  sha256: string
  name?: string
  /** ISO time; absent: never expires. */
  expiresAt?: string
}

const FIELD = 'spec.http.auth'

/** The Secrets a function's auth reads, each once. */
export function authSecretNamesOf (spec: Pick<FunctionSpec, 'http'>): string[] {
  const auth = spec.http.auth
  if (typeof auth === 'string') return []
  if (auth.mode === 'hmac') return [auth.secretRef.name]
  return [...new Set((auth.keys ?? []).flatMap((key) => key.secretRef === undefined ? [] : [key.secretRef.name]))]
}

/** What is wrong with the references of a function's auth, read through `lookup` (on apply, inside its transaction). */
export function authReferenceProblems (spec: Pick<FunctionSpec, 'http'>, lookup: SecretLookup): FieldProblem[] {
  const auth = spec.http.auth
  if (typeof auth === 'string') return []
  if (auth.mode === 'hmac') return signingSecrets(auth, lookup).problems
  const problems: FieldProblem[] = []
  if (auth.keysFile !== undefined) {
    problems.push({ field: `${FIELD}.keysFile`, message: 'a keys file is read where the manifest is, by `roost apply`; through the API, send the keys themselves as keys or jwks' })
  }
  for (const [index, key] of (auth.keys ?? []).entries()) {
    if (key.secretRef === undefined) continue
    const field = `${FIELD}.keys[${index}].secretRef`
    const value = secretValue(lookup, key.secretRef.name, key.secretRef.key, field, problems)
    if (value === undefined) continue
    const reading = readHmacSecret(value)
    if (!reading.ok) problems.push({ field, message: `secret ${key.secretRef.name} key ${key.secretRef.key}: ${reading.message}` })
  }
  return problems
}

/** Throws a ValidationError naming each reference of the auth that does not resolve. */
export function checkAuthReferences (store: Store, namespace: string, spec: Pick<FunctionSpec, 'http'>): void {
  const problems = authReferenceProblems(spec, storeSecrets(store, namespace))
  if (problems.length > 0) throw new ValidationError(problems)
}

/** The API keys of a function, as the gateway's policy holds them (expired ones too: they are refused as expired, not unknown). */
export function apiKeyRecordsOf (store: Store, namespace: string, fn: string): ApiKeyRecord[] {
  const records: ApiKeyRecord[] = []
  for (const key of store.listResources<ApiKeySpec>(API_KEY_KIND, namespace)) {
    if (key.spec.function !== fn) continue
    const record: ApiKeyRecord = { id: key.name, sha256: key.spec.sha256 }
    if (key.spec.expiresAt !== undefined) record.expiresAt = Date.parse(key.spec.expiresAt)
    records.push(record)
  }
  return records
}

/** The caller authentication the gateway enforces for a function, read from the store now. */
export function callerAuthOf (store: Store, fn: { namespace: string, name: string, spec: Pick<FunctionSpec, 'http'> }): CallerAuth {
  return compileCallerAuth(fn.spec.http.auth, fn.namespace, storeSecrets(store, fn.namespace), () => apiKeyRecordsOf(store, fn.namespace, fn.name))
}

/** The same from its parts, for a caller that has them at hand. */
export function compileCallerAuth (auth: HttpAuth, namespace: string, lookup: SecretLookup, keys: () => ApiKeyRecord[]): CallerAuth {
  if (auth === 'none') return { mode: 'none' }
  if (auth === 'key') return { mode: 'key', keys: keys() }
  if (auth === 'private') return { mode: 'private', namespace }
  if (auth.mode === 'hmac') {
    return {
      mode: 'hmac',
      secrets: signingSecrets(auth, lookup).secrets,
      toleranceMs: parseDuration(auth.tolerance),
      signer: auth.secretRef.name,
      replayCacheSize: auth.replayCacheSize,
      maxBodyBytes: DEFAULT_SIGNED_BODY_BYTES
    }
  }
  const compiled: CallerAuth = { mode: 'jwt', keys: jwtKeys(auth, lookup), clockSkewMs: parseDuration(auth.clockSkew) }
  if (auth.issuer !== undefined) compiled.issuer = auth.issuer
  if (auth.audience !== undefined) compiled.audience = auth.audience
  return compiled
}

/** The usable `whsec_` values of an hmac auth: one key of the Secret, or all of them. */
function signingSecrets (auth: HmacAuthSpec, lookup: SecretLookup): { secrets: string[], problems: FieldProblem[] } {
  const problems: FieldProblem[] = []
  const field = `${FIELD}.secretRef`
  const { name, key } = auth.secretRef
  const secret = lookup(name)
  if (secret === undefined) {
    problems.push({ field, message: `secret ${name} does not exist in this namespace; create it with \`roost secret create ${name} --from-literal SIGNING_SECRET=whsec_$(openssl rand -base64 32)\`` })
    return { secrets: [], problems }
  }
  const keys = key === undefined ? Object.keys(secret.data).sort() : [key]
  if (key !== undefined && !Object.hasOwn(secret.data, key)) {
    problems.push({ field, message: `secret ${name} has no key ${key}; it has ${Object.keys(secret.data).sort().join(', ') || 'none'}` })
    return { secrets: [], problems }
  }
  const secrets: string[] = []
  for (const k of keys) {
    const value = secret.data[k] as string
    const problem = webhookSecretProblem(value)
    if (problem === undefined) secrets.push(value)
    else problems.push({ field, message: `secret ${name} key ${k}: ${problem}` })
  }
  return { secrets, problems }
}

/** The keys of a jwt auth, each bound to its alg; one that does not read is left out (apply refused it). */
function jwtKeys (auth: JwtAuthSpec, lookup: SecretLookup): JwtKey[] {
  const keys: JwtKey[] = []
  const add = (reading: KeyReading, material: string, kid: string | undefined): void => {
    if (!reading.ok) return
    const key: JwtKey = { alg: reading.alg, key: material }
    const chosen = kid ?? reading.kid
    if (chosen !== undefined) key.kid = chosen
    keys.push(key)
  }
  for (const entry of auth.keys ?? []) {
    if (entry.pem !== undefined) add(readPem(entry.pem, entry.alg), entry.pem, entry.kid)
    else if (entry.jwk !== undefined) add(readJwk(entry.jwk, entry.alg), JSON.stringify(entry.jwk), entry.kid)
    else if (entry.secretRef !== undefined) {
      const value = lookup(entry.secretRef.name)?.data[entry.secretRef.key]
      if (value !== undefined) add(readHmacSecret(value), value, entry.kid)
    }
  }
  for (const jwk of auth.jwks?.keys ?? []) add(readJwk(jwk), JSON.stringify(jwk), undefined)
  return keys
}

function secretValue (lookup: SecretLookup, name: string, key: string, field: string, problems: FieldProblem[]): string | undefined {
  const secret = lookup(name)
  if (secret === undefined) {
    problems.push({ field, message: `secret ${name} does not exist in this namespace; create it with \`roost secret create ${name} --from-literal ${key}=VALUE\`` })
    return undefined
  }
  if (!Object.hasOwn(secret.data, key)) {
    problems.push({ field, message: `secret ${name} has no key ${key}; it has ${Object.keys(secret.data).sort().join(', ') || 'none'}` })
    return undefined
  }
  return secret.data[key]
}
