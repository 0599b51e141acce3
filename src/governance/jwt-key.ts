import { createPublicKey, createSecretKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { JwtAlg, JwtKey } from './policy.js'

// Keys that verify JWTs, read from what a manifest may hold: a public key in PEM
// (SPKI, PKCS#1 or an X.509 certificate), a public JWK, or an HS256 secret from a
// Secret. Each key is bound to one algorithm, and a token is verified only with
// keys of its header's `alg`: an RSA public key is never taken as an HMAC secret
// (the classic algorithm confusion). Private keys are refused, since a manifest
// is not the place for them. Results are values, so validation can name the field.

export const JWT_ALGS: readonly JwtAlg[] = ['HS256', 'RS256', 'ES256', 'EdDSA']
/** RFC 7518 §3.2: an HS256 key is at least as long as the hash. */
const MIN_HMAC_KEY_BYTES = 32
const MIN_RSA_BITS = 2048

export type KeyReading =
  | { ok: true, alg: JwtAlg, key: KeyObject, kid?: string }
  | { ok: false, message: string }

function refused (message: string): KeyReading {
  return { ok: false, message }
}

export function isJwtAlg (value: unknown): value is JwtAlg {
  return typeof value === 'string' && (JWT_ALGS as readonly string[]).includes(value)
}

/** The key object of a compiled JwtKey, checked against its alg. */
export function readJwtKey (key: JwtKey): KeyReading {
  if (key.alg === 'HS256') return readHmacSecret(key.key)
  const material = key.key.trimStart()
  const reading = material.startsWith('-----BEGIN') ? readPem(material, key.alg) : readJwkText(material, key.alg)
  if (reading.ok && key.kid !== undefined) reading.kid = key.kid
  return reading
}

export function readHmacSecret (secret: string): KeyReading {
  const bytes = Buffer.from(secret, 'utf8')
  if (bytes.byteLength < MIN_HMAC_KEY_BYTES) return refused(`an HS256 secret is at least ${MIN_HMAC_KEY_BYTES} bytes (RFC 7518 §3.2); this one has ${bytes.byteLength}`)
  return { ok: true, alg: 'HS256', key: createSecretKey(bytes) }
}

/** A public key in PEM; `alg` absent: the one its type implies. */
export function readPem (pem: string, alg?: JwtAlg): KeyReading {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return refused('this is a private key: give the public key (openssl pkey -pubout) and keep the private key with the issuer')
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(pem)) return refused('expected a public key in PEM, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----')
  let key: KeyObject
  try {
    key = pem.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(pem).publicKey : createPublicKey(pem)
  } catch {
    // OpenSSL's own message ("DECODER routines::unsupported") says nothing to a reader.
    return refused('not a public key in PEM: what is between the BEGIN and END lines does not decode as a public key or certificate')
  }
  return checked(key, alg)
}

function readJwkText (text: string, alg: JwtAlg): KeyReading {
  let jwk: unknown
  try {
    jwk = JSON.parse(text)
  } catch {
    return refused('not a public key: expected PEM (-----BEGIN PUBLIC KEY-----) or a JWK as JSON')
  }
  return readJwk(jwk, alg)
}

/** A public JWK; `alg` absent: its own `alg`, else the one its type implies. */
export function readJwk (jwk: unknown, alg?: JwtAlg): KeyReading {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refused('a JWK is a JSON object')
  const fields = jwk as Record<string, unknown>
  if (fields.kty === 'oct') return refused('a symmetric JWK (kty oct) is a secret: put it in a Secret and refer to it with keys: [{ secretRef: { name, key } }]')
  if (fields.d !== undefined) return refused('this JWK holds a private key (it has "d"): give the public key only')
  if (fields.use !== undefined && fields.use !== 'sig') return refused(`this JWK is for use "${String(fields.use)}", not for signatures ("sig")`)
  if (fields.alg !== undefined) {
    if (!isJwtAlg(fields.alg)) return refused(`alg ${JSON.stringify(fields.alg)} is not supported; supported: ${JWT_ALGS.join(', ')}`)
    if (alg !== undefined && fields.alg !== alg) return refused(`the JWK says alg ${fields.alg}, the key entry ${alg}`)
  }
  let key: KeyObject
  try {
    key = createPublicKey({ key: fields as JsonWebKey, format: 'jwk' })
  } catch (err) {
    return refused(`not a public JWK: ${(err as Error).message}`)
  }
  const reading = checked(key, alg ?? (fields.alg as JwtAlg | undefined))
  if (reading.ok && typeof fields.kid === 'string') reading.kid = fields.kid
  return reading
}

/** The alg a public key's type implies, or a refusal when it is not one of ours or too weak. */
function checked (key: KeyObject, alg: JwtAlg | undefined): KeyReading {
  const implied = impliedAlg(key)
  if (typeof implied !== 'string' || !isJwtAlg(implied)) return refused(implied.problem)
  if (alg !== undefined && alg !== implied) return refused(`a ${describeKey(key)} key signs ${implied}, not ${alg}`)
  return { ok: true, alg: implied, key }
}

function impliedAlg (key: KeyObject): JwtAlg | { problem: string } {
  const details = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0
      return bits >= MIN_RSA_BITS ? 'RS256' : { problem: `an RSA key for RS256 has at least ${MIN_RSA_BITS} bits; this one has ${bits}` }
    }
    case 'ec':
      return details.namedCurve === 'prime256v1' ? 'ES256' : { problem: `ES256 takes a P-256 key; this one is on ${String(details.namedCurve)}` }
    case 'ed25519':
    case 'ed448':
      return 'EdDSA'
    default:
      return { problem: `a ${describeKey(key)} key is not supported; supported: RSA (RS256), EC P-256 (ES256), Ed25519 or Ed448 (EdDSA)` }
  }
}

function describeKey (key: KeyObject): string {
  return key.asymmetricKeyType === 'ec' ? `EC ${String(key.asymmetricKeyDetails?.namedCurve)}` : String(key.asymmetricKeyType).toUpperCase()
}
