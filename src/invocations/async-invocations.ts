// The control plane's side of async calls: the gateway hands over a call
// (`invoke-async`), it is stored as an invocation record in the function's
// async queue, and answered 202 with where its result will be, or, when the
// caller asked to wait, with the result itself once the record settles within
// the wait. When the dispatcher settles an invocation record it says so
// (`settled`): waiters wake, and a final result goes to the X-Callback-Url
// and to the function's spec.async destination (a queue, or another
// function's async call, stored as any async call is).
import { NotFoundError, problemTitle } from '../errors/index.js'
import { invocationView, type EventStore, type PublishResult, type RecordView } from '../events/index.js'
import type { AsyncInvocationRequest, ControlAnswer } from '../gateway/index.js'
import { declareAsyncQueue, isAsyncQueue } from './async-queue.js'
import { callbackHeaders, sendInvocationCallback, type CallbackOptions, type CallbackOutcome } from './callback-sender.js'
import { errorAnswer, jsonAnswer } from './control-answers.js'
import { invocationResult, type InvocationResult } from './invocation-result.js'
import { describeDestination, hopsOf, HOPS_ATTRIBUTE, MAX_DESTINATION_HOPS, routeResult, type ResultDestination, type ResultDestinations } from './result-destination.js'
import { storedRequestOf } from './stored-request.js'

export interface AsyncInvocationsOptions {
  /** An invocation was stored in this queue: the dispatcher may deliver it now. */
  onSubmitted?: (namespace: string, queue: string) => void
  /** A callback was sent (or given up on). */
  onCallback?: (id: string, outcome: CallbackOutcome) => void
  callbacks?: Omit<CallbackOptions, 'signal' | 'retryUntil'>
  /** A function's spec.async; undefined when there is no such function (a destination naming it is dropped). */
  functionOf?: (namespace: string, name: string) => { async?: ResultDestinations } | undefined
  /** A result went to its destination, or could not (or was too many hops deep to go on). */
  onDestination?: (outcome: DestinationOutcome) => void
  /** How long close() lets callbacks in flight finish before it cuts them off. Default 2 s. */
  closeGraceMs?: number
  /** How often waiting callers look at their record, in case no `settled` comes. Default 100 ms. */
  pollMs?: number
  /** Callers waiting at once; past it a new one is answered 202 at once. Default 1000. */
  maxWaiters?: number
}

export interface DestinationOutcome {
  namespace: string
  /** The function whose result it is. */
  function: string
  callId: string
  /** `queue NS/NAME` or `function NS/NAME`. */
  destination: string
  delivered: boolean
  /** Why it was not delivered. */
  reason?: string
}

interface Waiter {
  id: string
  deadline: number
  resolve: (answer: ControlAnswer) => void
}

const API_PREFIX = '/apis/roost.dev/v1'
/** Response headers the stored response does not pass on: framing and hop-by-hop. */
const NOT_REPLAYED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive'])

export class AsyncInvocations {
  private readonly waiters = new Set<Waiter>()
  private readonly callbacks = new Set<Promise<unknown>>()
  /** Closing: nobody new waits, no callback is tried again. */
  private readonly stopping = new AbortController()
  /** Closed: callbacks still in flight are cut off. */
  private readonly cutting = new AbortController()
  private timer: NodeJS.Timeout | null = null
  private readonly pollMs: number
  private readonly maxWaiters: number

  constructor (private readonly events: EventStore, private readonly options: AsyncInvocationsOptions = {}) {
    this.pollMs = options.pollMs ?? 100
    this.maxWaiters = options.maxWaiters ?? 1000
  }

  /** Stores the call; answers 202 at once, or once the record settles or the wait runs out. Never rejects. */
  submit (request: AsyncInvocationRequest): Promise<ControlAnswer> {
    let published: PublishResult
    try {
      published = this.store(request, {})
    } catch (err) {
      return Promise.resolve(errorAnswer(err, request.requestId))
    }
    const record = published.outcome === 'duplicate' ? this.events.get(published.id) : undefined
    if (request.waitMs <= 0 || this.waiters.size >= this.maxWaiters || this.stopping.signal.aborted) {
      return Promise.resolve(record === undefined ? accepted(request.namespace, published.id, 'queued') : this.answerOf(record))
    }
    return new Promise((resolve) => {
      this.waiters.add({ id: published.id, deadline: Date.now() + request.waitMs, resolve })
      // Not unref'd: a caller waits for an answer; the timer ends with the last waiter.
      this.timer ??= setInterval(() => this.poll(), this.pollMs)
      this.poll()
    })
  }

  /**
   * The dispatcher settled the invocation record `id` (or another change of
   * its state happened): callers waiting for it are answered if it is final,
   * and a final result is sent to its X-Callback-Url. Call it once per
   * settlement that ends the record (after the last attempt, an ack, a dead letter).
   */
  settled (id: string): void {
    const record = this.events.get(id)
    if (record === undefined || record.kind !== 'invocation') return
    if (invocationResult(record) === undefined) return
    for (const waiter of this.waiters) if (waiter.id === id) this.answer(waiter, this.answerOf(record))
    this.sendCallback(record)
    this.sendToDestination(record)
  }

  /**
   * Answers every waiting caller with what its record is now, stops callback
   * retries, and gives the callbacks in flight closeGraceMs before cutting them off.
   */
  async close (): Promise<void> {
    this.stopping.abort()
    for (const waiter of this.waiters) this.answer(waiter, this.answerNow(waiter.id))
    if (this.callbacks.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.options.closeGraceMs ?? 2000) })
    await Promise.race([Promise.all(this.callbacks), grace])
    clearTimeout(timer)
    this.cutting.abort()
    await Promise.all(this.callbacks)
  }

  /** Stores the call as an invocation record of its function's async queue (throws what the store refuses). */
  private store (request: AsyncInvocationRequest, attributes: Record<string, string>): PublishResult {
    const queue = declareAsyncQueue(this.events, request.namespace, request.function)
    const published = this.events.publishOne(request.namespace, queue, {
      kind: 'invocation',
      body: storedRequestOf(request),
      // An Idempotency-Key makes a repeated call the same invocation, within the queue's retention.
      key: idempotencyKeyOf(request.headers),
      source: `/namespaces/${request.namespace}/functions/${request.function}`,
      subject: request.path.split('?')[0],
      attributes
    })
    if (published.outcome !== 'duplicate') this.options.onSubmitted?.(request.namespace, queue)
    return published
  }

  /** The final result to the function's spec.async destination, if it has one for this status. */
  private sendToDestination (record: RecordView): void {
    const result = invocationResult(record)
    if (result === undefined || this.options.functionOf === undefined) return
    const route = routeResult(result, this.options.functionOf(record.namespace, result.function)?.async, hopsOf(record.attributes))
    if (route.kind === 'none') return
    const outcome: DestinationOutcome = { namespace: record.namespace, function: result.function, callId: record.id, destination: describeDestination(record.namespace, route.destination), delivered: false }
    if (route.kind === 'too-deep') {
      outcome.reason = `the result is already a destination delivery ${route.hops} hops deep (at most ${MAX_DESTINATION_HOPS}): not passed on, so that destinations cannot loop`
    } else {
      try {
        outcome.reason = this.deliverResult(result, route.destination, route.hops)
        outcome.delivered = outcome.reason === undefined
      } catch (err) {
        outcome.reason = err instanceof Error ? err.message : String(err)
      }
    }
    this.options.onDestination?.(outcome)
  }

  /**
   * Publishes the result (the callback's JSON) into the queue, or stores it as
   * the function's async call; a settlement told twice makes a duplicate, not a
   * second delivery. Answers why it could not, or undefined once it did.
   */
  private deliverResult (result: InvocationResult, destination: ResultDestination, hops: number): string | undefined {
    const namespace = result.namespace
    const key = `${result.callId}/result`
    const attributes = { [HOPS_ATTRIBUTE]: String(hops) }
    if ('queue' in destination) {
      if (isAsyncQueue(destination.queue) || this.events.queuePolicy(namespace, destination.queue) === undefined) {
        return `no function of namespace ${namespace} declares queue ${destination.queue} in its spec.triggers: the result is dropped`
      }
      const published = this.events.publishOne(namespace, destination.queue, {
        body: result,
        key,
        source: `/namespaces/${namespace}/functions/${result.function}`,
        type: `dev.roost.async.${result.status}`,
        subject: result.callId,
        attributes
      })
      if (published.outcome !== 'duplicate') this.options.onSubmitted?.(namespace, destination.queue)
      return undefined
    }
    if (this.options.functionOf?.(namespace, destination.function) === undefined) {
      return `there is no function ${destination.function} in namespace ${namespace}: the result is dropped`
    }
    const ce = Object.entries(callbackHeaders(result)).filter(([name]) => name.startsWith('ce-'))
    this.store({
      namespace,
      function: destination.function,
      method: 'POST',
      path: '/',
      headers: [['content-type', 'application/json'], ['idempotency-key', key], ...ce],
      body: Buffer.from(JSON.stringify(result)),
      callbackUrl: undefined,
      caller: `fn:${namespace}/${result.function}`,
      requestId: key,
      waitMs: 0
    }, attributes)
    return undefined
  }

  private sendCallback (record: RecordView): void {
    const sending = sendInvocationCallback(record, { ...this.options.callbacks, retryUntil: this.stopping.signal, signal: this.cutting.signal }).then((outcome) => {
      if (outcome !== undefined) this.options.onCallback?.(record.id, outcome)
    })
    this.callbacks.add(sending)
    void sending.finally(() => this.callbacks.delete(sending))
  }

  private poll (): void {
    const now = Date.now()
    for (const waiter of this.waiters) {
      const record = this.events.get(waiter.id)
      if (record === undefined || invocationResult(record) !== undefined || now >= waiter.deadline) this.answer(waiter, this.answerNow(waiter.id, record))
    }
  }

  private answerNow (id: string, record = this.events.get(id)): ControlAnswer {
    if (record === undefined) return errorAnswer(new NotFoundError(`invocation ${id} is gone (pruned, or its function deleted)`), '')
    return this.answerOf(record)
  }

  /** The result as the function answered it, once final; else 202 with the status now. */
  private answerOf (record: RecordView): ControlAnswer {
    const result = invocationResult(record)
    const location = locationOf(record.namespace, record.id)
    if (result === undefined) return accepted(record.namespace, record.id, invocationView(record).status)
    const headers = { location, 'x-call-id': record.id }
    if (result.status === 'succeeded') {
      const response = record.response
      const replayed: Record<string, string> = {}
      for (const [name, value] of Object.entries(response?.headers ?? {})) if (!NOT_REPLAYED.has(name.toLowerCase())) replayed[name] = value
      if (response?.truncated === true) replayed['x-roost-truncated'] = 'true'
      return { status: response?.status ?? 200, headers: { ...replayed, ...headers }, body: response?.body ?? '' }
    }
    if (result.status === 'cancelled') {
      return problem(409, 'ROOST_E_CONFLICT', `invocation ${record.id} was cancelled before it ran`, headers)
    }
    const why = result.status === 'expired' ? 'expired before it could run (older than its maximum age)' : `failed after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'}`
    const last = result.statusCode === undefined ? '' : ` (last status ${result.statusCode})`
    return problem(502, 'ROOST_E_INVOCATION_FAILED', `invocation ${record.id} ${why}${last}${result.error === undefined ? '' : `: ${result.error}`}`, headers)
  }

  private answer (waiter: Waiter, answer: ControlAnswer): void {
    if (!this.waiters.delete(waiter)) return
    waiter.resolve(answer)
    if (this.waiters.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}

export function locationOf (namespace: string, id: string): string {
  return `${API_PREFIX}/namespaces/${namespace}/invocations/${id}`
}

function accepted (namespace: string, id: string, status: string): ControlAnswer {
  const location = locationOf(namespace, id)
  return jsonAnswer(202, { id, status, location }, { location, 'x-call-id': id })
}

function problem (status: number, code: string, detail: string, headers: Record<string, string>): ControlAnswer {
  return {
    status,
    headers: { ...headers, 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: `https://roost.dev/errors/${code}`, title: problemTitle(code), status, code, detail })
  }
}

function idempotencyKeyOf (headers: Array<[string, string]>): string | undefined {
  for (const [name, value] of headers) if (name.toLowerCase() === 'idempotency-key') return value
  return undefined
}
