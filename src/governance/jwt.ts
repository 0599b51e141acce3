import { createHmac, timingSafeEqual, verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import { readJwtKey } from './jwt-key.js'
import type { JwtAlg, JwtKey } from './policy.js'

// Verification of compact JWS tokens (RFC 7515/7519) on node:crypto. `jose` is
// the well-kept library for this, but the platform cannot take a new dependency
// now; what is needed is small: four algorithms, the registered time and
// audience claims, keys chosen by kid. Deliberately refused: alg "none", any
// `crit` header, keys named by the token itself (jku, jwk, x5u: the trust list
// is the function's spec, never the request), tokens without `exp` or `sub`.
//
// A verified token is remembered (bounded) with its time limits, so a caller
// that presents the same token again costs a map lookup, not a signature check.

/** Past this many remembered tokens the memory starts over. */
const TOKEN_CACHE_SIZE = 4096
/** A token longer than this is refused unparsed. */
const MAX_TOKEN_LENGTH = 8192
const SEGMENT = /^[A-Za-z0-9_-]+$/

export interface JwtVerifierOptions {
  issuer?: string
  audience?: string
  keys: readonly JwtKey[]
  clockSkewMs: number
}

export type JwtFailure = 'malformed' | 'unsupported-alg' | 'no-key' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'wrong-issuer' | 'wrong-audience' | 'no-subject'

export type JwtOutcome =
  | { ok: true, subject: string }
  | { ok: false, reason: JwtFailure, detail: string }

interface VerifyingKey {
  kid: string | undefined
  alg: JwtAlg
  key: KeyObject | VerifyKeyObjectInput
}

interface Remembered {
  outcome: JwtOutcome
  /** Epoch ms from which the token is refused as expired (exp plus the skew). */
  refusedFrom: number
  /** Epoch ms before which it is refused as not yet valid (nbf minus the skew). */
  validFrom: number
}

function failure (reason: JwtFailure, detail: string): JwtOutcome {
  return Object.freeze({ ok: false, reason, detail })
}

const MALFORMED = failure('malformed', 'not a JWT: expected three base64url parts separated by "." (header.payload.signature)')
const ALG_NONE = failure('unsupported-alg', 'alg "none" (an unsigned token) is never accepted')
const CRIT = failure('unsupported-alg', 'the token has critical header extensions ("crit"), which are not supported')
const BAD_SIGNATURE = failure('bad-signature', 'the signature does not verify with the function\'s keys')
const EXPIRED = failure('expired', 'the token has expired (exp)')
const NOT_YET = failure('not-yet-valid', 'the token is not valid yet (nbf)')
const NO_EXP = failure('malformed', 'the token has no numeric exp claim; tokens without an expiry are not accepted')
const NO_SUBJECT = failure('no-subject', 'the token has no sub claim, which names the caller')
const WRONG_ISSUER = failure('wrong-issuer', 'the token\'s iss is not the issuer this function trusts')
const WRONG_AUDIENCE = failure('wrong-audience', 'the token\'s aud does not name this function\'s audience')

export class JwtVerifier {
  private readonly keys: VerifyingKey[]
  private readonly issuer: string | undefined
  private readonly audience: string | undefined
  private readonly skewMs: number
  private readonly remembered = new Map<string, Remembered>()

  /** Keys that do not read are left out (validated on apply, so none should be). */
  constructor (options: JwtVerifierOptions) {
    this.issuer = options.issuer
    this.audience = options.audience
    this.skewMs = options.clockSkewMs
    this.keys = []
    for (const key of options.keys) {
      const reading = readJwtKey(key)
      if (!reading.ok) continue
      // ES256 signatures in a JWS are r || s (IEEE P1363), not DER.
      const verifying = reading.alg === 'ES256' ? { key: reading.key, dsaEncoding: 'ieee-p1363' as const } : reading.key
      this.keys.push({ kid: key.kid ?? reading.kid, alg: reading.alg, key: verifying })
    }
  }

  verify (token: string, now: number): JwtOutcome {
    const known = this.remembered.get(token)
    if (known !== undefined) return this.inTime(known, now)
    if (token.length > MAX_TOKEN_LENGTH) return MALFORMED
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    if (first <= 0 || second <= first + 1 || second === token.length - 1 || token.indexOf('.', second + 1) >= 0) return MALFORMED
    const headerText = token.slice(0, first)
    const payloadText = token.slice(first + 1, second)
    const signatureText = token.slice(second + 1)
    if (!SEGMENT.test(headerText) || !SEGMENT.test(payloadText) || !SEGMENT.test(signatureText)) return MALFORMED
    const header = parseSegment(headerText)
    if (header === undefined) return MALFORMED
    const alg = header.alg
    if (alg === 'none') return ALG_NONE
    if (typeof alg !== 'string') return MALFORMED
    if (header.crit !== undefined) return CRIT
    const kid = typeof header.kid === 'string' ? header.kid : undefined
    // A token with a kid takes the keys of that kid and those without one; a token without takes every key of its alg.
    const candidates = this.keys.filter((k) => k.alg === alg && (kid === undefined || k.kid === undefined || k.kid === kid))
    if (candidates.length === 0) {
      return failure('no-key', this.keys.some((k) => k.alg === alg)
        ? `no key of this function has kid ${JSON.stringify(kid ?? null)}`
        : `the function takes no ${JSON.stringify(alg)} tokens; it has keys for ${[...new Set(this.keys.map((k) => k.alg))].join(', ') || 'nothing'}`)
    }
    const signature = Buffer.from(signatureText, 'base64url')
    const signed = Buffer.from(token.slice(0, second), 'ascii')
    if (!candidates.some((k) => verifies(k, signed, signature))) return BAD_SIGNATURE
    const claims = parseSegment(payloadText)
    if (claims === undefined) return MALFORMED
    const checked = this.claimsOutcome(claims)
    if (!checked.outcome.ok) return checked.outcome
    this.remember(token, checked)
    return this.inTime(checked, now)
  }

  private claimsOutcome (claims: Record<string, unknown>): Remembered {
    const refuse = (outcome: JwtOutcome): Remembered => ({ outcome, refusedFrom: Infinity, validFrom: -Infinity })
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return refuse(NO_EXP)
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf))) return refuse(MALFORMED)
    if (this.issuer !== undefined && claims.iss !== this.issuer) return refuse(WRONG_ISSUER)
    if (this.audience !== undefined && !names(claims.aud, this.audience)) return refuse(WRONG_AUDIENCE)
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) return refuse(NO_SUBJECT)
    return {
      outcome: Object.freeze({ ok: true, subject: claims.sub }),
      refusedFrom: claims.exp * 1000 + this.skewMs,
      validFrom: claims.nbf === undefined ? -Infinity : (claims.nbf as number) * 1000 - this.skewMs
    }
  }

  /** RFC 7519 §4.1.4: refused on or after exp; §4.1.5: refused before nbf; both widened by the skew. */
  private inTime (known: Remembered, now: number): JwtOutcome {
    if (now >= known.refusedFrom) return EXPIRED
    if (now < known.validFrom) return NOT_YET
    return known.outcome
  }

  private remember (token: string, known: Remembered): void {
    if (this.remembered.size >= TOKEN_CACHE_SIZE) this.remembered.clear()
    this.remembered.set(token, known)
  }
}

function verifies (k: VerifyingKey, signed: Buffer, signature: Buffer): boolean {
  switch (k.alg) {
    case 'HS256': {
      const expected = createHmac('sha256', k.key as KeyObject).update(signed).digest()
      return expected.byteLength === signature.byteLength && timingSafeEqual(expected, signature)
    }
    case 'RS256':
    case 'ES256':
      return verifiesAsymmetric('sha256', k, signed, signature)
    case 'EdDSA':
      return verifiesAsymmetric(null, k, signed, signature)
  }
}

// A signature of the wrong size for the key makes some versions of OpenSSL throw rather than say no.
function verifiesAsymmetric (digest: string | null, k: VerifyingKey, signed: Buffer, signature: Buffer): boolean {
  try {
    return verify(digest, signed, k.key, signature)
  } catch {
    return false
  }
}

function parseSegment (text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

function names (aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience))
}
