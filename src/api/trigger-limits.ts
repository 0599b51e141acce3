// The numbers the dispatcher and the cron scheduler work with, from a
// normalized spec's triggers (as limits.ts does for the rest of the spec).
import { TRIGGER_DEFAULTS, type CronCatchUp, type CronOverlap, type FunctionSpec, type QueueTriggerSpec } from './function-schema.js'
import { parseDuration } from './quantities.js'

/** A batch's lease outlives the function's timeout by this much unless `visibility` says otherwise. */
export const LEASE_MARGIN_MS = 10_000

export interface QueueTriggerLimits {
  /** The queue's name in the function's namespace. */
  queue: string
  batch: number
  maxBatchWaitMs: number
  maxAttempts: number
  backoff: { initialMs: number, maxMs: number }
  deadLetterQueue: string | undefined
  maxDepth: number
  retentionMs: number
  leaseMs: number
  /** Absent: the embedded queue. */
  broker?: BrokerTriggerLimits
}

/** Where a broker trigger reads, as written: credentials are the Secret's, joined in only when it starts. */
export interface BrokerTriggerLimits {
  connector: NonNullable<QueueTriggerSpec['connector']>
  url: string
  create: boolean
  secret?: string
  stream?: string
  subject?: string
  consumer?: string
  group?: string
  rabbitQueue?: string
  prefetch?: number
}

export interface CronTriggerLimits {
  /** Its position in spec.triggers: part of the trigger's identity (firing ids, the internal queue). */
  index: number
  schedule: string
  timezone: string
  overlap: CronOverlap
  catchUp: CronCatchUp
  catchUpWindowMs: number
  maxAttempts: number
}

export interface TriggerLimits {
  queues: QueueTriggerLimits[]
  crons: CronTriggerLimits[]
}

// `spec` must be normalized (validateFunction's result): quantities are parsed, not checked.
export function resolveTriggers (spec: FunctionSpec): TriggerLimits {
  const limits: TriggerLimits = { queues: [], crons: [] }
  const timeoutMs = parseDuration(spec.timeout)
  for (const [index, trigger] of (spec.triggers ?? []).entries()) {
    if ('queue' in trigger) {
      const q = trigger.queue
      const d = TRIGGER_DEFAULTS.queue
      const queue: QueueTriggerLimits = {
        queue: q.name,
        batch: q.batch,
        maxBatchWaitMs: parseDuration(q.maxBatchWait ?? d.maxBatchWait),
        maxAttempts: q.maxAttempts,
        backoff: { initialMs: parseDuration(q.backoff.initial), maxMs: parseDuration(q.backoff.max) },
        deadLetterQueue: q.deadLetter?.queue,
        maxDepth: q.maxDepth ?? d.maxDepth,
        retentionMs: parseDuration(q.retention ?? d.retention),
        leaseMs: q.visibility === undefined ? timeoutMs + LEASE_MARGIN_MS : parseDuration(q.visibility)
      }
      const broker = brokerOf(q)
      if (broker !== undefined) queue.broker = broker
      limits.queues.push(queue)
    } else {
      const c = trigger.cron
      limits.crons.push({
        index,
        schedule: c.schedule,
        timezone: c.timezone,
        overlap: c.overlap,
        catchUp: c.catchUp,
        catchUpWindowMs: parseDuration(c.catchUpWindow),
        maxAttempts: c.maxAttempts
      })
    }
  }
  return limits
}

function brokerOf (q: QueueTriggerSpec): BrokerTriggerLimits | undefined {
  if (q.connector === undefined || q.url === undefined) return undefined
  const broker: BrokerTriggerLimits = { connector: q.connector, url: q.url, create: q.create ?? true }
  if (q.auth !== undefined) broker.secret = q.auth.secret
  if (q.stream !== undefined) broker.stream = q.stream
  if (q.subject !== undefined) broker.subject = q.subject
  if (q.consumer !== undefined) broker.consumer = q.consumer
  if (q.group !== undefined) broker.group = q.group
  if (q.queue !== undefined) broker.rabbitQueue = q.queue
  if (q.prefetch !== undefined) broker.prefetch = q.prefetch
  return broker
}

/** The internal queue a cron trigger's firings wait in: a dot cannot be in a queue name a user writes. */
export function cronQueueName (functionName: string, index: number): string {
  return `cron.${functionName}.${index}`
}

/** The trigger name of a cron trigger, as its firing ids and `roost get triggers` name it. */
export function cronTriggerName (functionName: string, index: number): string {
  return `${functionName}.${index}`
}
