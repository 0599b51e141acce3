// From the functions of the store to what the event side runs: the queues to
// declare with their policies, who consumes each, and the cron triggers. Pure:
// the trigger controller applies it, tests read it.
import type { FunctionSpec } from '../api/index.js'
import { cronQueueName, cronTriggerName, LEASE_MARGIN_MS, resolveLimits, resolveTriggers } from '../api/index.js'
import { ASYNC_QUEUE_POLICY, asyncQueueName } from '../invocations/index.js'
import type { StoredResource } from '../store/index.js'
import type { CronPlan, DeclaredQueue, QueueConsumer, TriggerPlan } from './consumer.js'

/** The dispatcher waits this much past the function's timeout for the gateway's answer (which the timeout bounds). */
export const DELIVERY_MARGIN_MS = 5000

/**
 * Functions in order of name within a namespace: when two claim one queue
 * (the API refuses the second; an older store may hold both), the first keeps it.
 */
export function planTriggers (functions: ReadonlyArray<StoredResource<FunctionSpec>>): TriggerPlan {
  const plan: TriggerPlan = { queues: [], consumers: [], crons: [], brokers: [] }
  const claimed = new Set<string>()
  const sorted = [...functions].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
  for (const fn of sorted) {
    const limits = resolveLimits(fn.spec)
    const triggers = resolveTriggers(fn.spec)
    const queueMetric = limits.scale.metrics.find((m) => m.metric === 'queue')
    const perInstance = queueMetric?.target ?? limits.concurrency
    const deliveryTimeoutMs = limits.timeoutMs + DELIVERY_MARGIN_MS
    // Every function takes async calls (POST /async/fn/…): they wait in its own queue, one call per delivery.
    const asyncQueue = asyncQueueName(fn.name)
    plan.queues.push({ namespace: fn.namespace, queue: asyncQueue, policy: { ...ASYNC_QUEUE_POLICY } })
    plan.consumers.push({
      namespace: fn.namespace, queue: asyncQueue, function: fn.name, event: 'invocation', batch: 1, maxBatchWaitMs: 0,
      leaseMs: limits.timeoutMs + LEASE_MARGIN_MS, perInstance: limits.concurrency, deliveryTimeoutMs
    })
    for (const q of triggers.queues) {
      const key = `${fn.namespace}/${q.queue}`
      if (claimed.has(key)) continue
      claimed.add(key)
      if (q.broker !== undefined) {
        // The broker holds it: nothing is declared in the events database, where only its dead copies go.
        plan.brokers.push({
          namespace: fn.namespace, queue: q.queue, function: fn.name, batch: q.batch, leaseMs: q.leaseMs, perInstance, maxInFlight: perInstance * limits.scale.max, deliveryTimeoutMs,
          maxAttempts: q.maxAttempts, backoff: q.backoff, broker: q.broker
        })
        continue
      }
      plan.queues.push(declared(fn.namespace, q.queue, q.maxDepth, q.maxAttempts, q.backoff, q.retentionMs))
      const consumer: QueueConsumer = {
        namespace: fn.namespace,
        queue: q.queue,
        function: fn.name,
        event: 'queue',
        batch: q.batch,
        maxBatchWaitMs: q.maxBatchWaitMs,
        leaseMs: q.leaseMs,
        perInstance,
        deliveryTimeoutMs
      }
      if (q.deadLetterQueue !== undefined) consumer.deadLetterQueue = q.deadLetterQueue
      plan.consumers.push(consumer)
    }
    for (const c of triggers.crons) {
      const queue = cronQueueName(fn.name, c.index)
      plan.queues.push(declared(fn.namespace, queue, undefined, c.maxAttempts, undefined, undefined))
      plan.consumers.push({
        namespace: fn.namespace,
        queue,
        function: fn.name,
        event: 'scheduled',
        batch: 1,
        maxBatchWaitMs: 0,
        leaseMs: limits.timeoutMs + LEASE_MARGIN_MS,
        perInstance,
        deliveryTimeoutMs
      })
      const cron: CronPlan = {
        namespace: fn.namespace,
        function: fn.name,
        trigger: cronTriggerName(fn.name, c.index),
        queue,
        schedule: c.schedule,
        timezone: c.timezone,
        overlap: c.overlap,
        catchUp: c.catchUp,
        catchUpWindowMs: c.catchUpWindowMs,
        since: Date.parse(fn.updatedAt)
      }
      plan.crons.push(cron)
    }
  }
  return plan
}

function declared (namespace: string, queue: string, maxDepth: number | undefined, maxAttempts: number, backoff: { initialMs: number, maxMs: number } | undefined, retentionMs: number | undefined): DeclaredQueue {
  const policy: DeclaredQueue['policy'] = { maxAttempts }
  if (maxDepth !== undefined) policy.maxDepth = maxDepth
  if (backoff !== undefined) policy.backoff = backoff
  if (retentionMs !== undefined) policy.retentionMs = retentionMs
  return { namespace, queue, policy }
}
