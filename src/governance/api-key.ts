import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ApiKeyRecord } from './policy.js'

// API keys of a function: `rk_<12 hex>_<43 base64url>`, 59 characters. The
// first 15 (`rk_` and the hex) are the key's id: public, shown by `roost key
// list`, the caller's identity. The rest is 32 random bytes. Only the SHA-256
// of the whole key is stored: a key has 256 bits of entropy, so a fast hash
// is as safe as a slow one (no dictionary to try) and costs a microsecond.
// A presented key is found by its id, and its hash compared in constant time,
// so neither the lookup nor the compare tells anything about the secret part.

export const API_KEY_PREFIX = 'rk_'
const ID_HEX_CHARS = 12
const SECRET_BYTES = 32
const SECRET_CHARS = 43 // base64url of 32 bytes, unpadded
const ID_LENGTH = API_KEY_PREFIX.length + ID_HEX_CHARS
export const API_KEY_LENGTH = ID_LENGTH + 1 + SECRET_CHARS
const ID_PATTERN = /^rk_[0-9a-f]{12}$/
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/

export interface GeneratedApiKey {
  /** `rk_<12 hex>`: the public part. */
  id: string
  /** The whole key, to show once. */
  key: string
  /** Hex SHA-256 of `key`: what is stored. */
  sha256: string
}

export function generateApiKey (): GeneratedApiKey {
  const id = API_KEY_PREFIX + randomBytes(ID_HEX_CHARS / 2).toString('hex')
  const key = `${id}_${randomBytes(SECRET_BYTES).toString('base64url')}`
  return { id, key, sha256: hashApiKey(key) }
}

/** Hex SHA-256 of a key, as stored. */
export function hashApiKey (key: string): string {
  return hash('sha256', key, 'hex')
}

/** The id of a well-formed key, or undefined for anything else. */
export function apiKeyId (key: string): string | undefined {
  if (key.length !== API_KEY_LENGTH || key.charCodeAt(ID_LENGTH) !== 95 /* _ */) return undefined
  const id = key.slice(0, ID_LENGTH)
  return ID_PATTERN.test(id) && SECRET_PATTERN.test(key.slice(ID_LENGTH + 1)) ? id : undefined
}

/** Whether a string is an API key's id (what `roost key revoke` takes). */
export function isApiKeyId (id: string): boolean {
  return ID_PATTERN.test(id)
}

export type ApiKeyOutcome =
  | { ok: true, id: string }
  | { ok: false, reason: 'malformed' | 'unknown' | 'expired' }

interface KnownKey {
  hash: Buffer
  expiresAt: number
  accepted: ApiKeyOutcome
}

const MALFORMED: ApiKeyOutcome = Object.freeze({ ok: false, reason: 'malformed' })
const UNKNOWN: ApiKeyOutcome = Object.freeze({ ok: false, reason: 'unknown' })
const EXPIRED: ApiKeyOutcome = Object.freeze({ ok: false, reason: 'expired' })

/** The keys of one function, ready to check presented keys against. Outcomes are shared and frozen. */
export class ApiKeyVerifier {
  private readonly keys = new Map<string, KnownKey>()

  constructor (records: readonly ApiKeyRecord[]) {
    for (const record of records) {
      const hash = Buffer.from(record.sha256, 'hex')
      if (hash.byteLength !== 32) continue // not a SHA-256: no key can match it
      this.keys.set(record.id, { hash, expiresAt: record.expiresAt ?? Infinity, accepted: Object.freeze({ ok: true, id: record.id }) })
    }
  }

  get size (): number {
    return this.keys.size
  }

  /** A key expires at `expiresAt` exactly: from that millisecond on it is refused. */
  verify (presented: string, now: number): ApiKeyOutcome {
    const id = apiKeyId(presented)
    if (id === undefined) return MALFORMED
    const known = this.keys.get(id)
    if (known === undefined) return UNKNOWN
    if (!timingSafeEqual(hash('sha256', presented, 'buffer'), known.hash)) return UNKNOWN
    return now >= known.expiresAt ? EXPIRED : known.accepted
  }
}
