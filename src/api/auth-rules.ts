import type { FieldProblem } from '../errors/index.js'
import { readJwk, readPem, type JwtAlg } from '../governance/index.js'
import {
  AUTH_BOUNDS, AUTH_DEFAULTS, DURATION_PATTERN,
  type AuthMode, type HttpAuth, type HttpAuthManifest, type JwtKeySpec
} from './function-schema.js'
import { parseDuration } from './quantities.js'

// The rules of `spec.http.auth` that the schema cannot say: which settings
// belong to which mode, what each mode needs, ranges of its durations, and
// whether the keys given inline are public keys that verify the algorithm they
// are for. References to Secrets are checked on apply (caller-auth.ts), where
// the store is. Like validate.ts's rules, each looks only at values of the
// right shape and leaves the rest to the schema's messages.

const FIELD = 'spec.http.auth'

/** The settings each mode takes; `mode` itself belongs to all. */
const MODE_FIELDS: Record<string, AuthMode> = {
  secretRef: 'hmac',
  tolerance: 'hmac',
  replayCacheSize: 'hmac',
  issuer: 'jwt',
  audience: 'jwt',
  clockSkew: 'jwt',
  keys: 'jwt',
  jwks: 'jwt',
  keysFile: 'jwt'
}

type Doc = Record<string, unknown>

export function authProblems (auth: unknown): FieldProblem[] {
  if (auth === 'hmac') return [{ field: FIELD, message: '"hmac" needs its signing secrets: write auth: { mode: hmac, secretRef: { name: SECRET } } (a Secret of whsec_… values)' }]
  if (auth === 'jwt') return [{ field: FIELD, message: '"jwt" needs the keys that verify tokens: write auth: { mode: jwt, keys: [{ pem: … }] } (or jwks, or keysFile)' }]
  if (!isRecord(auth) || typeof auth.mode !== 'string') return []
  const mode = auth.mode
  const problems: FieldProblem[] = []
  for (const key of Object.keys(auth)) {
    const owner = MODE_FIELDS[key]
    if (owner !== undefined && owner !== mode) problems.push({ field: `${FIELD}.${key}`, message: `only for mode ${owner}; this auth is mode ${mode}` })
  }
  if (mode === 'hmac') {
    if (auth.secretRef === undefined) problems.push({ field: `${FIELD}.secretRef`, message: 'required for mode hmac: the Secret whose whsec_… values sign the requests' })
    problems.push(...durationWithin(auth.tolerance, `${FIELD}.tolerance`, AUTH_BOUNDS.tolerance))
  }
  if (mode === 'jwt') {
    if (auth.keys === undefined && auth.jwks === undefined && auth.keysFile === undefined) {
      problems.push({ field: FIELD, message: 'mode jwt needs the keys that verify tokens: keys, jwks or keysFile' })
    }
    problems.push(...durationWithin(auth.clockSkew, `${FIELD}.clockSkew`, AUTH_BOUNDS.clockSkew))
    problems.push(...keyProblems(auth.keys))
    problems.push(...jwksProblems(auth.jwks))
  }
  return problems
}

function keyProblems (keys: unknown): FieldProblem[] {
  if (!Array.isArray(keys)) return []
  const problems: FieldProblem[] = []
  keys.forEach((entry: unknown, i) => {
    if (!isRecord(entry)) return
    const field = `${FIELD}.keys[${i}]`
    const given = (['pem', 'jwk', 'secretRef'] as const).filter((k) => entry[k] !== undefined)
    if (given.length !== 1) {
      problems.push({ field, message: given.length === 0 ? 'give the key: pem, jwk or secretRef' : `give one of pem, jwk and secretRef, not ${given.join(' and ')}` })
      return
    }
    const alg = typeof entry.alg === 'string' ? entry.alg as JwtAlg : undefined
    if (given[0] === 'secretRef') {
      if (alg !== undefined && alg !== 'HS256') problems.push({ field: `${field}.alg`, message: `a secretRef is an HS256 secret; ${alg} takes a public key as pem or jwk` })
      return
    }
    if (alg === 'HS256') {
      problems.push({ field: `${field}.alg`, message: 'an HS256 key is a secret: put it in a Secret and refer to it with secretRef, never in the manifest' })
      return
    }
    const reading = given[0] === 'pem'
      ? typeof entry.pem === 'string' ? readPem(entry.pem, alg) : undefined
      : isRecord(entry.jwk) ? readJwk(entry.jwk, alg) : undefined
    if (reading !== undefined && !reading.ok) problems.push({ field: `${field}.${given[0]}`, message: reading.message })
  })
  return problems
}

function jwksProblems (jwks: unknown): FieldProblem[] {
  if (!isRecord(jwks) || !Array.isArray(jwks.keys)) return []
  const problems: FieldProblem[] = []
  jwks.keys.forEach((jwk: unknown, i) => {
    if (!isRecord(jwk)) return
    const reading = readJwk(jwk)
    if (!reading.ok) problems.push({ field: `${FIELD}.jwks.keys[${i}]`, message: reading.message })
  })
  return problems
}

const durationRe = new RegExp(DURATION_PATTERN)

function durationWithin (value: unknown, field: string, bounds: { min: string, max: string }): FieldProblem[] {
  if (typeof value !== 'string' || !durationRe.test(value)) return []
  const ms = parseDuration(value)
  if (ms >= parseDuration(bounds.min) && ms <= parseDuration(bounds.max)) return []
  return [{ field, message: `expected a duration from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(value)}` }]
}

/** The normalized auth of a valid manifest: modes without settings as their name, hmac and jwt with defaults filled. */
export function normalizeAuth (auth: HttpAuthManifest | undefined): HttpAuth {
  if (auth === undefined) return 'none'
  if (typeof auth === 'string') return auth as HttpAuth // hmac and jwt as bare names fail validation first
  switch (auth.mode) {
    case 'hmac': {
      const ref = auth.secretRef as { name: string, key?: string }
      return {
        mode: 'hmac',
        secretRef: ref.key === undefined ? { name: ref.name } : { name: ref.name, key: ref.key },
        tolerance: auth.tolerance ?? AUTH_DEFAULTS.tolerance,
        replayCacheSize: auth.replayCacheSize ?? AUTH_DEFAULTS.replayCacheSize
      }
    }
    case 'jwt': {
      const normalized: HttpAuth = { mode: 'jwt', clockSkew: auth.clockSkew ?? AUTH_DEFAULTS.clockSkew }
      if (auth.issuer !== undefined) normalized.issuer = auth.issuer
      if (auth.audience !== undefined) normalized.audience = auth.audience
      if (auth.keys !== undefined) normalized.keys = auth.keys.map(copyKey)
      if (auth.jwks !== undefined) normalized.jwks = { keys: auth.jwks.keys.map((jwk) => ({ ...jwk })) }
      if (auth.keysFile !== undefined) normalized.keysFile = auth.keysFile
      return normalized
    }
    default:
      return auth.mode
  }
}

function copyKey (key: JwtKeySpec): JwtKeySpec {
  const copy: JwtKeySpec = {}
  if (key.kid !== undefined) copy.kid = key.kid
  if (key.alg !== undefined) copy.alg = key.alg
  if (key.pem !== undefined) copy.pem = key.pem
  if (key.jwk !== undefined) copy.jwk = { ...key.jwk }
  if (key.secretRef !== undefined) copy.secretRef = { ...key.secretRef }
  return copy
}

function isRecord (value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
