// X-Callback-Url: the final result of an async invocation, POSTed as JSON to
// the URL its caller gave, with bounded retries (full-jitter backoff) so that a
// receiver down for a moment still gets it, and a receiver down for good does
// not hold anything. A CloudEvent in binary mode (ce-* headers), as everything
// Roost delivers.
import { backoffDelay, cloudEventHeaders, type RandomSource, type RecordView } from '../events/index.js'
import { fetch as undiciFetch } from 'undici'
import { CallbackRefusedError } from '../errors/index.js'
import { isPrivateAddress, literalAddressOf, privateCallbackRefusal, publicOnlyDispatcher } from './callback-target.js'
import { invocationResult, type InvocationResult } from './invocation-result.js'
import { readStoredRequest } from './stored-request.js'

export interface CallbackOptions {
  /** Tries in all (the first and the retries). Default 3. */
  attempts?: number
  /** The ceiling of the first retry's delay; it doubles. Default 1 s. */
  initialDelayMs?: number
  /** Longest one try may take. Default 10 s. */
  timeoutMs?: number
  /** Aborts the try in flight and every retry. */
  signal?: AbortSignal
  /** Starts no further try once aborted (the platform stops); the one in flight runs on. */
  retryUntil?: AbortSignal
  random?: RandomSource
  /**
   * Receivers on loopback, private and link-local addresses are refused unless
   * this is true (`roost up --allow-private-callbacks`): the caller picks the URL.
   */
  allowPrivate?: boolean
  /** For tests. */
  fetch?: typeof fetch
}

export interface CallbackOutcome {
  url: string
  delivered: boolean
  /** Tries made. */
  tries: number
  /** The receiver's last status, when it answered. */
  status?: number
  error?: string
  /** The receiver's address is one callbacks may not reach: final, never tried again. */
  refused?: boolean
}

const DEFAULTS = { attempts: 3, initialDelayMs: 1000, timeoutMs: 10_000 }
const MAX_DELAY_MS = 30_000

/**
 * Sends the result of a finished invocation record to its X-Callback-Url.
 * Resolves (never rejects) with what happened; undefined when the record has
 * no callback URL, is not final, or was cancelled (nothing ran to report).
 * 2xx is delivered; 408, 429, 5xx and network failures are tried again; any
 * other status is final (the receiver refuses it).
 */
export async function sendInvocationCallback (record: RecordView, options: CallbackOptions = {}): Promise<CallbackOutcome | undefined> {
  const url = readStoredRequest(record.body)?.callbackUrl ?? null
  const result = invocationResult(record)
  if (url === null || result === undefined || result.status === 'cancelled') return undefined
  const attempts = options.attempts ?? DEFAULTS.attempts
  const send = sender(options)
  const body = JSON.stringify(result)
  const headers = { ...callbackHeaders(result), 'user-agent': 'roost-callback/1' }
  let outcome: CallbackOutcome = { url, delivered: false, tries: 0 }
  const refusal = options.allowPrivate === true ? undefined : literalRefusal(url)
  if (refusal !== undefined) return { ...outcome, error: refusal, refused: true }
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (options.signal?.aborted === true || options.retryUntil?.aborted === true) break
    outcome = await tryOnce(send, url, headers, body, options.timeoutMs ?? DEFAULTS.timeoutMs, options.signal, attempt)
    if (outcome.delivered || !worthRetrying(outcome) || attempt === attempts) break
    const delay = backoffDelay(attempt, { initialMs: options.initialDelayMs ?? DEFAULTS.initialDelayMs, maxMs: MAX_DELAY_MS }, options.random ?? Math.random)
    await sleep(delay, options.retryUntil ?? options.signal)
  }
  return outcome
}

function literalRefusal (url: string): string | undefined {
  const address = literalAddressOf(new URL(url))
  return address !== undefined && isPrivateAddress(address) ? privateCallbackRefusal(address, address) : undefined
}

/** fetch, through a pool whose every connection is checked to reach a public address unless private receivers are allowed. */
function sender (options: CallbackOptions): typeof fetch {
  if (options.fetch !== undefined) return options.fetch
  if (options.allowPrivate === true) return fetch
  const dispatcher = publicOnlyDispatcher()
  return ((url: string, init: RequestInit) => undiciFetch(url, { ...init, dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch
}

/** The callback's headers: JSON, the call id, and the result as a binary-mode CloudEvent. */
export function callbackHeaders (result: InvocationResult): Record<string, string> {
  return {
    ...cloudEventHeaders({
      specversion: '1.0',
      id: `${result.callId}/result`,
      source: `/namespaces/${result.namespace}/functions/${result.function}`,
      type: `dev.roost.async.${result.status}`,
      subject: result.callId,
      datacontenttype: 'application/json',
      extensions: {}
    }),
    'x-roost-call-id': result.callId
  }
}

async function tryOnce (send: typeof fetch, url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal | undefined, tries: number): Promise<CallbackOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    const response = await send(url, { method: 'POST', headers, body, redirect: 'manual', signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) })
    // The receiver's answer is not read beyond its status; its body is let go.
    await response.body?.cancel()
    return { url, delivered: response.status >= 200 && response.status < 300, tries, status: response.status }
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined
    if (cause instanceof CallbackRefusedError) return { url, delivered: false, tries, error: cause.message, refused: true }
    return { url, delivered: false, tries, error: err instanceof Error ? (cause as Error | undefined)?.message ?? err.message : String(err) }
  }
}

function worthRetrying (outcome: CallbackOutcome): boolean {
  if (outcome.refused === true) return false
  const status = outcome.status
  return status === undefined || status === 408 || status === 429 || status >= 500
}

function sleep (ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
