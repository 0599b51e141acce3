// A closed-loop load in this process (undici Pool) that keeps every response's
// status and arrival time, for a rate limiter's accuracy: how many requests
// were admitted (200) in each second and in any 1-second interval, and whether
// each refusal (429) carried Retry-After and the RateLimit headers. wrk only
// counts; its Lua has no clock finer than a second.
import { Pool } from 'undici'

export interface AdmissionCount {
  seconds: number
  requests: number
  /** Arrival times of the 200s' heads, ms since the load began, in order. */
  admittedAt: number[]
  /** When each of those requests was sent, in the same order. */
  admittedSentAt: number[]
  refused: number
  /** Refusals with a Retry-After of whole seconds ≥ 1. */
  refusedWithRetryAfter: number
  /** Refusals with both RateLimit and RateLimit-Policy. */
  refusedWithRateLimit: number
  /** Answers that were neither 200 nor 429, by status. */
  otherStatuses: Map<number, number>
  /** Requests that got no answer (connection errors, timeouts). */
  failed: number
}

export interface AdmissionLoadOptions {
  url: string
  connections: number
  durationSec: number
  /** Called once the load is running. */
  onStart?: () => void
}

export async function countAdmissions (options: AdmissionLoadOptions): Promise<AdmissionCount> {
  const url = new URL(options.url)
  const path = `${url.pathname}${url.search}`
  const pool = new Pool(url.origin, { connections: options.connections, pipelining: 1 })
  const count: AdmissionCount = {
    seconds: 0,
    requests: 0,
    admittedAt: [],
    admittedSentAt: [],
    refused: 0,
    refusedWithRetryAfter: 0,
    refusedWithRateLimit: 0,
    otherStatuses: new Map(),
    failed: 0
  }
  const started = performance.now()
  const endMs = options.durationSec * 1000
  options.onStart?.()
  const client = async (): Promise<void> => {
    while (performance.now() - started < endMs) {
      const sent = performance.now() - started
      try {
        const response = await pool.request({ path, method: 'GET' })
        // The head's arrival: the time the gateway's decision reached the caller.
        const at = performance.now() - started
        await response.body.dump()
        count.requests++
        if (response.statusCode === 200) {
          count.admittedAt.push(at)
          count.admittedSentAt.push(sent)
        } else if (response.statusCode === 429) {
          count.refused++
          const retryAfter = response.headers['retry-after']
          if (typeof retryAfter === 'string' && /^[1-9][0-9]*$/.test(retryAfter)) count.refusedWithRetryAfter++
          if (typeof response.headers.ratelimit === 'string' && typeof response.headers['ratelimit-policy'] === 'string') count.refusedWithRateLimit++
        } else {
          count.otherStatuses.set(response.statusCode, (count.otherStatuses.get(response.statusCode) ?? 0) + 1)
        }
      } catch {
        count.failed++
        // A dead target must not spin this loop for the rest of the run.
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, client))
  count.seconds = (performance.now() - started) / 1000
  await pool.close()
  return count
}

/** Admissions in each whole second [k s, k+1 s) of the load, for k below `durationSec`. */
export function admittedPerSecond (admittedAt: readonly number[], durationSec: number): number[] {
  const seconds = new Array<number>(durationSec).fill(0)
  for (const at of admittedAt) {
    const k = Math.floor(at / 1000)
    if (k < durationSec) seconds[k]++
  }
  return seconds
}

/**
 * The most admissions that certainly fell inside one interval (t − lengthMs, t]:
 * those sent after its start and answered by its end, since the gateway
 * admitted each one between the two. The latency's jitter cannot inflate this
 * count, so it never exceeds what the limiter admitted in some interval of
 * that length: above the limit, the limit was broken.
 */
export function mostInsideAnyInterval (sentAt: readonly number[], answeredAt: readonly number[], lengthMs: number): number {
  // +1 when t reaches an answer, −1 once t − lengthMs reaches its sending; at equal times the −1 first.
  const events: Array<[number, number]> = []
  for (let i = 0; i < answeredAt.length; i++) {
    if (answeredAt[i] - sentAt[i] >= lengthMs) continue
    events.push([answeredAt[i], 1], [sentAt[i] + lengthMs, -1])
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let inside = 0
  let most = 0
  for (const [, change] of events) {
    inside += change
    if (inside > most) most = inside
  }
  return most
}
