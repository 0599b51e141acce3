import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { ReplayCache } from './replay-cache.js'

// Inbound requests signed as Standard Webhooks signs them (standardwebhooks.com,
// scheme v1): `webhook-id`, `webhook-timestamp` (Unix seconds of this attempt)
// and `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>`
// over `${id}.${timestamp}.${body}` with the raw body bytes. Several secrets are
// tried, so a sender can move to a new one while the old still works; entries of
// other versions (v1a, ed25519) are skipped, as the reference library does.
//
// A replay is the same signed attempt again: the cache is keyed by id and
// timestamp, both covered by the signature. A sender's own retry carries a new
// timestamp and signature, so it passes; telling retries of one message apart is
// what the id is for, and that is the handler's business (an idempotency key).

export const WEBHOOK_SECRET_PREFIX = 'whsec_'
/** The reference tolerance: five minutes either way. */
export const DEFAULT_WEBHOOK_TOLERANCE_MS = 5 * 60_000
export const DEFAULT_REPLAY_CACHE_SIZE = 50_000
/** Standard Webhooks secrets are 24 to 64 random bytes. */
const MIN_SECRET_BYTES = 24
const DIGEST_BYTES = 32
/** A header of more entries than this is refused unread: nothing honest sends that many. */
const MAX_SIGNATURES = 32
const MAX_ID_LENGTH = 256
const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/
const EMPTY = Buffer.alloc(0)

/** Why a secret cannot be used, in words; undefined when it can. */
export function webhookSecretProblem (secret: string): string | undefined {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return `a signing secret starts with ${WEBHOOK_SECRET_PREFIX} (Standard Webhooks); make one with \`echo whsec_$(openssl rand -base64 32)\``
  const body = secret.slice(WEBHOOK_SECRET_PREFIX.length)
  if (!BASE64_PATTERN.test(body)) return `after ${WEBHOOK_SECRET_PREFIX}, a signing secret is base64`
  const bytes = Buffer.from(body, 'base64').byteLength
  if (bytes < MIN_SECRET_BYTES) return `a signing secret is at least ${MIN_SECRET_BYTES} random bytes; this one has ${bytes}`
  return undefined
}

/** The key bytes of a `whsec_` secret; throws RangeError for a bad one (validated on apply, so a bug if it happens later). */
export function decodeWebhookSecret (secret: string): Buffer {
  const problem = webhookSecretProblem(secret)
  if (problem !== undefined) throw new RangeError(problem)
  return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64')
}

export function generateWebhookSecret (): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64')
}

/** The `v1,<base64>` signature of a message, as a sender puts it in `webhook-signature`. */
export function signWebhook (secret: string, id: string, timestampSeconds: number, body: Uint8Array | string): string {
  const mac = createHmac('sha256', decodeWebhookSecret(secret)).update(`${id}.${timestampSeconds}.`).update(body).digest('base64')
  return `v1,${mac}`
}

export type WebhookFailure = 'missing' | 'malformed' | 'too-old' | 'too-new' | 'bad-signature' | 'replayed' | 'replay-cache-full'

export type WebhookOutcome =
  | { ok: true }
  | { ok: false, reason: WebhookFailure, detail: string }

export interface WebhookVerifierOptions {
  secrets: readonly string[]
  toleranceMs: number
  replayCacheSize: number
}

const ACCEPTED: WebhookOutcome = Object.freeze({ ok: true })

function failure (reason: WebhookFailure, detail: string): WebhookOutcome {
  return Object.freeze({ ok: false, reason, detail })
}

const MISSING = failure('missing', 'the request is not signed: it needs the headers webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks)')
const BAD_ID = failure('malformed', `webhook-id must be 1 to ${MAX_ID_LENGTH} characters without "." (the signed content is id.timestamp.body)`)
const BAD_TIMESTAMP = failure('malformed', 'webhook-timestamp must be whole Unix seconds')
const TOO_MANY = failure('malformed', `webhook-signature holds more than ${MAX_SIGNATURES} signatures`)
const NO_V1 = failure('malformed', 'webhook-signature holds no v1 signature (a space-separated list of v1,<base64>)')
const BAD_SIGNATURE = failure('bad-signature', 'no signature in webhook-signature matches the body with any of the function\'s secrets')
const REPLAYED = failure('replayed', 'this signed message (webhook-id and webhook-timestamp) was accepted before: a replay is refused')
const FULL = failure('replay-cache-full', 'too many signed messages within the tolerance window to remember them all; retry in a moment')

/** Checks the signed requests of one function; holds the replay cache, so it lives as long as the function does. */
export class WebhookVerifier {
  private keys: KeyObject[] = []
  private toleranceMs = DEFAULT_WEBHOOK_TOLERANCE_MS
  private readonly replays: ReplayCache
  // The decoded v1 entries of the request at hand, reused.
  private readonly offered: Buffer[] = []

  constructor (options: WebhookVerifierOptions) {
    this.replays = new ReplayCache(options.replayCacheSize)
    this.configure(options)
  }

  /** New secrets, tolerance or cache size; the messages already seen stay remembered. */
  configure (options: WebhookVerifierOptions): void {
    this.keys = options.secrets.map((secret) => createSecretKey(decodeWebhookSecret(secret)))
    this.toleranceMs = options.toleranceMs
    this.replays.maxSize = options.replayCacheSize
  }

  get remembered (): number {
    return this.replays.size
  }

  /** `body` is the whole raw body (undefined: none). Only a verified message enters the replay cache. */
  verify (id: string | undefined, timestamp: string | undefined, signature: string | undefined, body: Uint8Array | undefined, now: number): WebhookOutcome {
    if (id === undefined || timestamp === undefined || signature === undefined) return MISSING
    if (id.length === 0 || id.length > MAX_ID_LENGTH || id.includes('.')) return BAD_ID
    if (!TIMESTAMP_PATTERN.test(timestamp)) return BAD_TIMESTAMP
    const stamp = Number(timestamp) * 1000
    if (now - stamp > this.toleranceMs) return failure('too-old', `webhook-timestamp is ${Math.round((now - stamp) / 1000)} s old; at most ${this.toleranceMs / 1000} s is accepted`)
    if (stamp - now > this.toleranceMs) return failure('too-new', `webhook-timestamp is ${Math.round((stamp - now) / 1000)} s ahead; at most ${this.toleranceMs / 1000} s is accepted`)
    const offered = this.readSignatures(signature)
    if (offered !== undefined) return offered
    const matched = this.matches(`${id}.${timestamp}.`, body ?? EMPTY)
    this.offered.length = 0
    if (!matched) return BAD_SIGNATURE
    switch (this.replays.admit(`${id}.${timestamp}`, stamp, now - this.toleranceMs)) {
      case 'admitted': return ACCEPTED
      case 'replayed': return REPLAYED
      case 'full': return FULL
    }
  }

  /** Fills `offered` with the v1 signatures of the header; a failure when there is none to check. */
  private readSignatures (header: string): WebhookOutcome | undefined {
    const offered = this.offered
    offered.length = 0
    let entries = 0
    let start = 0
    while (start < header.length) {
      let end = header.indexOf(' ', start)
      if (end < 0) end = header.length
      if (end > start) {
        if (++entries > MAX_SIGNATURES) return TOO_MANY
        if (header.startsWith('v1,', start)) {
          const text = header.slice(start + 3, end)
          const mac = BASE64_PATTERN.test(text) ? Buffer.from(text, 'base64') : EMPTY
          if (mac.byteLength === DIGEST_BYTES) offered.push(mac)
        }
      }
      start = end + 1
    }
    return offered.length === 0 ? NO_V1 : undefined
  }

  private matches (prefix: string, body: Uint8Array): boolean {
    for (const key of this.keys) {
      const expected = createHmac('sha256', key).update(prefix).update(body).digest()
      for (const mac of this.offered) if (timingSafeEqual(mac, expected)) return true
    }
    return false
  }
}
