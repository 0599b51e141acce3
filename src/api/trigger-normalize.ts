// `spec.triggers` with every default filled, as the platform stores it.
import { TRIGGER_DEFAULTS, type CronTriggerSpec, type FunctionTrigger, type QueueTriggerSpec, type TriggerManifest } from './function-schema.js'

/** Entries of a validated manifest (exactly one kind each); a fresh object, nothing shared with the input. */
export function normalizeTriggers (triggers: TriggerManifest[]): FunctionTrigger[] {
  return triggers.map((trigger) => {
    if (trigger.queue !== undefined) return { queue: normalizeQueue(trigger.queue) }
    return { cron: normalizeCron(trigger.cron as NonNullable<TriggerManifest['cron']>) }
  })
}

function normalizeQueue (queue: NonNullable<TriggerManifest['queue']>): QueueTriggerSpec {
  const d = TRIGGER_DEFAULTS.queue
  const backoff = { initial: queue.backoff?.initial ?? d.backoff.initial, max: queue.backoff?.max ?? d.backoff.max }
  if (queue.connector !== undefined && queue.connector !== 'embedded') return normalizeBroker(queue, queue.connector, backoff)
  const normalized: QueueTriggerSpec = {
    name: queue.name,
    batch: queue.batch ?? d.batch,
    maxBatchWait: queue.maxBatchWait ?? d.maxBatchWait,
    maxAttempts: queue.maxAttempts ?? d.maxAttempts,
    backoff,
    maxDepth: queue.maxDepth ?? d.maxDepth,
    retention: queue.retention ?? d.retention
  }
  // Optional fields stay absent rather than undefined, so the resource round-trips through JSON unchanged.
  if (queue.deadLetter !== undefined) normalized.deadLetter = queue.deadLetter.queue === undefined ? {} : { queue: queue.deadLetter.queue }
  if (queue.visibility !== undefined) normalized.visibility = queue.visibility
  return normalized
}

// A broker trigger keeps only what a broker has: no embedded-only field (validation refused them), so `get -o yaml` applies again.
function normalizeBroker (queue: NonNullable<TriggerManifest['queue']>, connector: NonNullable<QueueTriggerSpec['connector']>, backoff: QueueTriggerSpec['backoff']): QueueTriggerSpec {
  const normalized: QueueTriggerSpec = {
    name: queue.name,
    connector,
    url: queue.url as string,
    create: queue.create ?? true,
    batch: queue.batch ?? TRIGGER_DEFAULTS.queue.batch,
    maxAttempts: queue.maxAttempts ?? TRIGGER_DEFAULTS.queue.maxAttempts,
    backoff
  }
  if (queue.visibility !== undefined) normalized.visibility = queue.visibility
  if (queue.auth !== undefined) normalized.auth = { secret: queue.auth.secret }
  for (const field of ['stream', 'subject', 'consumer', 'group', 'queue'] as const) {
    const value = queue[field]
    if (value !== undefined) normalized[field] = value
  }
  if (queue.prefetch !== undefined) normalized.prefetch = queue.prefetch
  return normalized
}

function normalizeCron (cron: NonNullable<TriggerManifest['cron']>): CronTriggerSpec {
  const d = TRIGGER_DEFAULTS.cron
  return {
    schedule: cron.schedule.trim(),
    timezone: cron.timezone ?? d.timezone,
    overlap: cron.overlap ?? d.overlap,
    catchUp: cron.catchUp ?? d.catchUp,
    catchUpWindow: cron.catchUpWindow ?? d.catchUpWindow,
    maxAttempts: cron.maxAttempts ?? d.maxAttempts
  }
}
