// One JetStream pull request, made by hand: a single
// $JS.API.CONSUMER.MSG.NEXT request for `batch` messages that the server ends
// on its own (when the batch is full, at once with 404 when `no_wait` finds
// nothing, with 408 when `expires` runs out). The library's consumer.fetch()
// takes no expiry under a second and keeps pulls going across calls; this one
// answers within the wait it was given and holds nothing afterwards.
//
// A pull given up here (aborted, or the server's end did not come in time)
// may still be served by the server until its expiry: what comes for it then
// is handed to `stray`, for the caller to give back, until the server cannot
// send any more.
import type { Msg, NatsConnection, Subscription as NatsSub } from '@nats-io/transport-node'
import { createInbox } from '@nats-io/transport-node'

/** How much longer than its expiry a pull waits for the server's end before it gives up, and listens for strays after. */
export const PULL_GRACE_MS = 1_000

export interface PullSettings {
  nc: NatsConnection
  stream: string
  consumer: string
  batch: number
  /** How long the server keeps the request open for the batch to fill; 0: answer with what is there now (no_wait). */
  waitMs: number
  signal?: AbortSignal
  /** A message that came after the pull was given up, or beyond its batch. */
  stray: (msg: Msg) => void
}

/** A message as it came, and when (epoch ms, as the client read it). */
export interface Arrival {
  msg: Msg
  at: number
}

export interface PullOutcome {
  /** What came, in order: never more than the batch. */
  messages: Arrival[]
  /** When the request was sent: the server delivered nothing for it before. */
  sentAt: number
  /** The server ended the request (batch full, 404, 408); false when it was given up here. */
  complete: boolean
  /** A status other than 404 and 408 that ended it (409 Consumer Deleted, 503 no responders …). */
  status?: { code: number, description: string }
  /** Resolves once the server can send nothing more for this pull. */
  finished: Promise<void>
}

const NO_MESSAGES = 404
const REQUEST_TIMEOUT = 408

/** Sends one pull request and resolves with what it brought; rejects only when the request could not be sent. */
export function pull (settings: PullSettings): Promise<PullOutcome> {
  const { nc, stream, consumer, batch, waitMs, signal } = settings
  return new Promise<PullOutcome>((resolve, reject) => {
    const messages: Arrival[] = []
    let delivered = 0
    let given = false
    let ended = false
    let endFinished: () => void = () => {}
    const finished = new Promise<void>((resolve) => { endFinished = resolve })
    let guard: NodeJS.Timeout | undefined
    let linger: NodeJS.Timeout | undefined
    let sub: NatsSub | undefined

    const end = (): void => {
      if (ended) return
      ended = true
      clearTimeout(guard)
      clearTimeout(linger)
      signal?.removeEventListener('abort', giveUp)
      sub?.unsubscribe()
      endFinished()
    }
    const give = (outcome: Omit<PullOutcome, 'finished' | 'sentAt'>): void => {
      if (given) return
      given = true
      clearTimeout(guard)
      signal?.removeEventListener('abort', giveUp)
      resolve({ ...outcome, sentAt: startedAt, finished })
    }
    // Given up: the server may serve the request until its expiry; listen that long, then a grace more.
    function giveUp (): void {
      give({ messages: messages.splice(0), complete: false })
      if (ended) return
      const left = Math.max(0, startedAt + waitMs - Date.now())
      linger = setTimeout(end, left + PULL_GRACE_MS)
    }
    const onMessage = (err: Error | null, msg: Msg): void => {
      if (err !== null) {
        give({ messages: messages.splice(0), complete: true, status: { code: 0, description: err.message } })
        end()
        return
      }
      const code = msg.headers?.code ?? 0
      if (msg.reply !== undefined && msg.reply !== '' && code === 0) {
        delivered++
        if (given || messages.length >= batch) settings.stray(msg)
        else messages.push({ msg, at: Date.now() })
        if (delivered >= batch) {
          give({ messages: messages.splice(0), complete: true })
          end()
        }
        return
      }
      // 100 is an idle heartbeat or flow control, which this request never asks for.
      if (code === 100) return
      if (code === NO_MESSAGES || code === REQUEST_TIMEOUT) give({ messages: messages.splice(0), complete: true })
      else give({ messages: messages.splice(0), complete: true, status: { code, description: msg.headers?.description ?? '' } })
      end()
    }

    const startedAt = Date.now()
    try {
      const inbox = createInbox()
      sub = nc.subscribe(inbox, { callback: onMessage })
      const request = waitMs > 0 ? { batch, expires: Math.round(waitMs) * 1_000_000 } : { batch, no_wait: true }
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(request), { reply: inbox })
    } catch (err) {
      end()
      reject(err)
      return
    }
    if (signal?.aborted === true) {
      giveUp()
      return
    }
    signal?.addEventListener('abort', giveUp, { once: true })
    guard = setTimeout(giveUp, waitMs + PULL_GRACE_MS)
  })
}
