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
  const normalized: QueueTriggerSpec = {
    name: queue.name,
    batch: queue.batch ?? d.batch,
    maxBatchWait: queue.maxBatchWait ?? d.maxBatchWait,
    maxAttempts: queue.maxAttempts ?? d.maxAttempts,
    backoff: { initial: queue.backoff?.initial ?? d.backoff.initial, max: queue.backoff?.max ?? d.backoff.max },
    maxDepth: queue.maxDepth ?? d.maxDepth,
    retention: queue.retention ?? d.retention
  }
  // Optional fields stay absent rather than undefined, so the resource round-trips through JSON unchanged.
  if (queue.deadLetter !== undefined) normalized.deadLetter = queue.deadLetter.queue === undefined ? {} : { queue: queue.deadLetter.queue }
  if (queue.visibility !== undefined) normalized.visibility = queue.visibility
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
