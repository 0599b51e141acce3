import { ApiKeyVerifier } from './api-key.js'
import { CALL_TOKEN_HEADER, type PlatformCallKey } from './call-token.js'
import { WebhookVerifier } from './hmac.js'
import { JwtVerifier } from './jwt.js'
import type { CallerAuth, HmacAuth } from './policy.js'

// Who is calling a function, decided at the gateway before anything is
// counted against the function's limits or breaker. One CallerAuthenticator per
// routed function: it holds what is costly to make (key objects, hashes) and
// what must outlive a routing-table push (the replay cache of signed requests),
// so the gateway keeps it across pushes and calls `update` with the new policy.
//
// The gateway reads the few headers this needs into one reused AuthFacts
// (scanAuthHeaders, from rawHeaders), and for `hmac` reads the body whole first
// (`needsBody`, at most `maxBodyBytes`). Results are shared frozen objects: a
// success allocates nothing but what node:crypto does.

/** The request facts authentication reads; the gateway fills one object per request and reuses it. */
export interface AuthFacts {
  /** `authorization` */
  authorization: string | undefined
  /** `x-api-key` */
  apiKey: string | undefined
  /** `webhook-id`, `webhook-timestamp`, `webhook-signature` */
  webhookId: string | undefined
  webhookTimestamp: string | undefined
  webhookSignature: string | undefined
  /** `x-roost-call`: the platform call token of a calling function. */
  callToken: string | undefined
  /** The whole raw body, for `hmac` (undefined: none). */
  body: Uint8Array | undefined
}

/** The request headers authentication reads, lower case. */
export const AUTH_HEADERS = ['authorization', 'x-api-key', 'webhook-id', 'webhook-timestamp', 'webhook-signature', CALL_TOKEN_HEADER] as const

export function emptyAuthFacts (): AuthFacts {
  return { authorization: undefined, apiKey: undefined, webhookId: undefined, webhookTimestamp: undefined, webhookSignature: undefined, callToken: undefined, body: undefined }
}

/**
 * Fills `facts` from node's rawHeaders (name, value, name, value, …), the first
 * of each header winning as node's req.headers does for these. The body is left
 * undefined. Only names of a matching length are lower-cased.
 */
export function scanAuthHeaders (raw: readonly string[], facts: AuthFacts): AuthFacts {
  facts.authorization = undefined
  facts.apiKey = undefined
  facts.webhookId = undefined
  facts.webhookTimestamp = undefined
  facts.webhookSignature = undefined
  facts.callToken = undefined
  facts.body = undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    switch (name.length) {
      case 13:
        if (facts.authorization === undefined && name.toLowerCase() === 'authorization') facts.authorization = raw[i + 1]
        break
      case 9:
        if (facts.apiKey === undefined && name.toLowerCase() === 'x-api-key') facts.apiKey = raw[i + 1]
        break
      case 10:
        if (facts.webhookId === undefined && name.toLowerCase() === 'webhook-id') facts.webhookId = raw[i + 1]
        break
      case 17: {
        const lower = name.toLowerCase()
        if (facts.webhookTimestamp === undefined && lower === 'webhook-timestamp') facts.webhookTimestamp = raw[i + 1]
        else if (facts.webhookSignature === undefined && lower === 'webhook-signature') facts.webhookSignature = raw[i + 1]
        break
      }
      case 12:
        if (facts.callToken === undefined && name.toLowerCase() === CALL_TOKEN_HEADER) facts.callToken = raw[i + 1]
        break
    }
  }
  return facts
}

export type AuthResult =
  | { ok: true, caller: string }
  /**
   * 401: no credentials or bad ones (with `WWW-Authenticate`); 403: a known
   * caller without the right; 503: signed requests come faster than the replay
   * cache can remember them (with `retryAfterSeconds`). None counts against the
   * function. `code` is the problem code to answer with.
   */
  | { ok: false, status: 401 | 403 | 503, code: string, wwwAuthenticate: string, detail: string, retryAfterSeconds?: number }

/** The caller of a function that asks for no credentials. */
export const ANONYMOUS = 'anonymous'
const ANONYMOUS_RESULT: AuthResult = Object.freeze({ ok: true, caller: ANONYMOUS })
const REALM = 'realm="roost"'
const CHALLENGE = {
  key: `Bearer ${REALM}`,
  jwt: `Bearer ${REALM}`,
  hmac: `Webhook-Signature ${REALM}`,
  private: `Roost-Call ${REALM}`
} as const
// RFC 6750 §3.1: a challenge names the error once credentials were presented.
const INVALID_TOKEN = `Bearer ${REALM}, error="invalid_token"`
const BEARER_SCHEME = 'bearer'
/** How long a signer is asked to wait when the replay cache is full. */
const REPLAY_FULL_RETRY_SECONDS = 1
/** Default bound of a signed body read before authentication. */
export const DEFAULT_SIGNED_BODY_BYTES = 1024 * 1024

function unauthorized (wwwAuthenticate: string, detail: string): AuthResult {
  return Object.freeze({ ok: false, status: 401, code: 'ROOST_E_UNAUTHORIZED', wwwAuthenticate, detail })
}

const NO_KEY = unauthorized(CHALLENGE.key, 'this function needs an API key: send Authorization: Bearer <key> or x-api-key: <key> (`roost key create` makes one)')
const KEY_MALFORMED = unauthorized(INVALID_TOKEN, 'that is not an API key of the form rk_<id>_<secret>')
const KEY_UNKNOWN = unauthorized(INVALID_TOKEN, 'the API key is not valid for this function (unknown or revoked)')
const KEY_EXPIRED = unauthorized(INVALID_TOKEN, 'the API key has expired')
const NO_JWT = unauthorized(CHALLENGE.jwt, 'this function needs a JWT: send Authorization: Bearer <token>')
const NO_CALL_TOKEN = unauthorized(CHALLENGE.private, 'this function is private: only functions of its namespace may call it, through the gateway')
const BAD_CALL_TOKEN = unauthorized(CHALLENGE.private, 'the x-roost-call token is not one this platform issued (tokens end with the platform run that made them)')
const NO_CALL_KEY = unauthorized(CHALLENGE.private, 'this function is private and the gateway has no platform call key to check callers with')

export interface AuthenticatorOptions {
  /** Checks the call tokens of `private` functions; without it every call to one is refused. */
  callKey?: PlatformCallKey
}

type Check = (facts: AuthFacts, now: number) => AuthResult

export class CallerAuthenticator {
  private auth!: CallerAuth
  private check!: Check
  private webhooks: WebhookVerifier | undefined
  private readonly callKey: PlatformCallKey | undefined

  constructor (auth: CallerAuth, options: AuthenticatorOptions = {}) {
    this.callKey = options.callKey
    this.update(auth)
  }

  get mode (): CallerAuth['mode'] {
    return this.auth.mode
  }

  /** Whether the gateway must read the whole body before `authenticate` (signed requests). */
  get needsBody (): boolean {
    return this.auth.mode === 'hmac'
  }

  /** With `needsBody`: the largest body to read; over it the request is refused with 413 unread. */
  get maxBodyBytes (): number {
    return this.auth.mode === 'hmac' ? this.auth.maxBodyBytes : 0
  }

  /** Takes a new policy (a routing-table push); signed requests already seen stay remembered while the mode stays hmac. */
  update (auth: CallerAuth): void {
    this.auth = auth
    if (auth.mode !== 'hmac') this.webhooks = undefined
    this.check = this.compile(auth)
  }

  /** Decides one request; call it after the body is read when `needsBody`. */
  authenticate (facts: AuthFacts, now: number): AuthResult {
    return this.check(facts, now)
  }

  private compile (auth: CallerAuth): Check {
    switch (auth.mode) {
      case 'none': return () => ANONYMOUS_RESULT
      case 'key': return keyCheck(new ApiKeyVerifier(auth.keys))
      case 'jwt': return jwtCheck(new JwtVerifier(auth))
      case 'hmac': return hmacCheck(this.webhookVerifier(auth), auth)
      case 'private': return privateCheck(this.callKey, auth.namespace)
    }
  }

  private webhookVerifier (auth: HmacAuth): WebhookVerifier {
    const options = { secrets: auth.secrets, toleranceMs: auth.toleranceMs, replayCacheSize: auth.replayCacheSize }
    if (this.webhooks === undefined) this.webhooks = new WebhookVerifier(options)
    else this.webhooks.configure(options)
    return this.webhooks
  }
}

/** The bearer token of an Authorization header (`Bearer` in any case, then blanks), or undefined; read by hand, as a RegExp match would allocate its array per request. */
function bearerToken (authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length < 8) return undefined
  // ASCII letters compare case-insensitively with their 0x20 bit set
  for (let i = 0; i < 6; i++) if ((authorization.charCodeAt(i) | 0x20) !== BEARER_SCHEME.charCodeAt(i)) return undefined
  let start = 6
  while (start < authorization.length && isBlank(authorization.charCodeAt(start))) start++
  if (start === 6) return undefined
  let end = authorization.length
  while (end > start && isBlank(authorization.charCodeAt(end - 1))) end--
  for (let i = start; i < end; i++) if (isBlank(authorization.charCodeAt(i))) return undefined
  return end > start ? authorization.slice(start, end) : undefined
}

function isBlank (code: number): boolean {
  return code === 32 || code === 9
}

function keyCheck (keys: ApiKeyVerifier): Check {
  const accepted = new Map<string, AuthResult>()
  return (facts, now) => {
    // x-api-key first: with it, Authorization stays free for the function's own use.
    const presented = facts.apiKey ?? bearerToken(facts.authorization)
    if (presented === undefined) return NO_KEY
    const outcome = keys.verify(presented.trim(), now)
    if (outcome.ok) {
      let result = accepted.get(outcome.id)
      if (result === undefined) accepted.set(outcome.id, result = Object.freeze({ ok: true, caller: `key:${outcome.id}` }))
      return result
    }
    return outcome.reason === 'malformed' ? KEY_MALFORMED : outcome.reason === 'expired' ? KEY_EXPIRED : KEY_UNKNOWN
  }
}

function jwtCheck (verifier: JwtVerifier): Check {
  const accepted = new Map<string, AuthResult>()
  return (facts, now) => {
    const token = bearerToken(facts.authorization)
    if (token === undefined) return NO_JWT
    const outcome = verifier.verify(token, now)
    if (!outcome.ok) return unauthorized(INVALID_TOKEN, outcome.detail)
    let result = accepted.get(outcome.subject)
    if (result === undefined) {
      if (accepted.size >= 4096) accepted.clear()
      accepted.set(outcome.subject, result = Object.freeze({ ok: true, caller: `jwt:${outcome.subject}` }))
    }
    return result
  }
}

function hmacCheck (verifier: WebhookVerifier, auth: HmacAuth): Check {
  const accepted: AuthResult = Object.freeze({ ok: true, caller: `hmac:${auth.signer}` })
  return (facts, now) => {
    const outcome = verifier.verify(facts.webhookId, facts.webhookTimestamp, facts.webhookSignature, facts.body, now)
    if (outcome.ok) return accepted
    if (outcome.reason === 'replay-cache-full') {
      return Object.freeze({ ok: false, status: 503, code: 'ROOST_E_OVERLOADED', wwwAuthenticate: CHALLENGE.hmac, detail: outcome.detail, retryAfterSeconds: REPLAY_FULL_RETRY_SECONDS })
    }
    return unauthorized(CHALLENGE.hmac, outcome.detail)
  }
}

function privateCheck (callKey: PlatformCallKey | undefined, namespace: string): Check {
  const accepted = new Map<string, AuthResult>()
  return (facts) => {
    if (facts.callToken === undefined) return NO_CALL_TOKEN
    if (callKey === undefined) return NO_CALL_KEY
    const caller = callKey.verify(facts.callToken)
    if (caller === undefined) return BAD_CALL_TOKEN
    if (caller.namespace !== namespace) {
      return Object.freeze({ ok: false, status: 403, code: 'ROOST_E_FORBIDDEN', wwwAuthenticate: CHALLENGE.private, detail: `this function is private to namespace ${namespace}; ${caller.caller} is of namespace ${caller.namespace}` })
    }
    let result = accepted.get(caller.caller)
    if (result === undefined) accepted.set(caller.caller, result = Object.freeze({ ok: true, caller: caller.caller }))
    return result
  }
}
