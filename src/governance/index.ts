export type {
  ApiKeyRecord, BreakerPolicy, CallerAuth, ConcurrencyPolicy, Fallback, FunctionPolicy, GovernanceRule, HmacAuth, JwtAlg, JwtKey, LaneMatch,
  LimitKey, RateLimitPolicy, RejectCause, RetryPolicy, RouteMatch, RuleProblem, Strategy, StringMatch, ThrottlePolicy
} from './policy.js'
// Caller identity (spec.http.auth): the schemes and the gateway's entry point.
export { ANONYMOUS, AUTH_HEADERS, CallerAuthenticator, DEFAULT_SIGNED_BODY_BYTES, emptyAuthFacts, scanAuthHeaders } from './authenticate.js'
export type { AuthFacts, AuthResult, AuthenticatorOptions } from './authenticate.js'
export { API_KEY_LENGTH, API_KEY_PREFIX, ApiKeyVerifier, apiKeyId, generateApiKey, hashApiKey, isApiKeyId } from './api-key.js'
export type { ApiKeyOutcome, GeneratedApiKey } from './api-key.js'
export { CALL_TOKEN_HEADER, PlatformCallKey } from './call-token.js'
export type { CallingFunction } from './call-token.js'
export {
  DEFAULT_REPLAY_CACHE_SIZE, DEFAULT_WEBHOOK_TOLERANCE_MS, WEBHOOK_SECRET_PREFIX, WebhookVerifier,
  decodeWebhookSecret, generateWebhookSecret, signWebhook, webhookSecretProblem
} from './hmac.js'
export type { WebhookFailure, WebhookOutcome, WebhookVerifierOptions } from './hmac.js'
export { JwtVerifier } from './jwt.js'
export type { JwtFailure, JwtOutcome, JwtVerifierOptions } from './jwt.js'
export { JWT_ALGS, isJwtAlg, readHmacSecret, readJwk, readJwtKey, readPem } from './jwt-key.js'
export type { KeyReading } from './jwt-key.js'
export { ReplayCache } from './replay-cache.js'
export type { ReplayVerdict } from './replay-cache.js'
