// Checks of `spec.triggers` that a JSON Schema cannot express: one kind per
// entry, a queue consumed once per function, the cron expression and time
// zone (read as the events part reads them), ranges of durations, and a
// queue scaling metric only with a queue to scale on.
import type { FieldProblem } from '../errors/index.js'
import { cronScheduleProblems } from '../events/index.js'
import { connectorProblems } from './broker-trigger-rules.js'
import { DURATION_PATTERN, TRIGGER_BOUNDS, TRIGGER_DEFAULTS } from './function-schema.js'
import { parseDuration } from './quantities.js'
import { isRecord, recordAt, show, type Doc } from './schema-problems.js'

const durationRe = new RegExp(DURATION_PATTERN)

export function triggerProblems (spec: Doc): FieldProblem[] {
  const triggers = spec.triggers
  const problems: FieldProblem[] = []
  const queues = new Map<string, number>()
  if (Array.isArray(triggers)) {
    triggers.forEach((trigger: unknown, i) => {
      if (!isRecord(trigger)) return
      const field = `spec.triggers[${i}]`
      const kinds = ['queue', 'cron'].filter((kind) => trigger[kind] !== undefined)
      if (kinds.length !== 1) {
        problems.push({ field, message: kinds.length === 0 ? 'a trigger is `queue: { name: … }` or `cron: { schedule: … }`' : 'a trigger is either `queue:` or `cron:`, not both: write two entries' })
      }
      const queue = recordAt(trigger, 'queue')
      if (queue !== undefined) problems.push(...queueTriggerProblems(queue, `${field}.queue`, queues))
      const cron = recordAt(trigger, 'cron')
      if (cron !== undefined) problems.push(...cronTriggerProblems(cron, `${field}.cron`))
    })
  }
  problems.push(...queueMetricProblems(spec, queues.size > 0))
  return problems
}

function queueTriggerProblems (queue: Doc, field: string, seen: Map<string, number>): FieldProblem[] {
  const problems: FieldProblem[] = []
  const { name } = queue
  const index = Number(/\[(\d+)\]/.exec(field)?.[1])
  if (typeof name === 'string') {
    const first = seen.get(name)
    if (first !== undefined) problems.push({ field: `${field}.name`, message: `queue ${show(name)} is consumed twice (also at spec.triggers[${first}]): give it one trigger` })
    else seen.set(name, index)
  }
  problems.push(...connectorProblems(queue, field))
  problems.push(...durationRange(queue.maxBatchWait, `${field}.maxBatchWait`, TRIGGER_BOUNDS.maxBatchWait))
  problems.push(...durationRange(queue.retention, `${field}.retention`, TRIGGER_BOUNDS.retention))
  problems.push(...durationRange(queue.visibility, `${field}.visibility`, TRIGGER_BOUNDS.visibility))
  const backoff = recordAt(queue, 'backoff')
  if (backoff !== undefined) {
    problems.push(...durationRange(backoff.initial, `${field}.backoff.initial`, TRIGGER_BOUNDS.backoff))
    problems.push(...durationRange(backoff.max, `${field}.backoff.max`, TRIGGER_BOUNDS.backoff))
    const initial = durationOr(backoff.initial, TRIGGER_DEFAULTS.queue.backoff.initial)
    const max = durationOr(backoff.max, TRIGGER_DEFAULTS.queue.backoff.max)
    if (initial !== undefined && max !== undefined && max < initial) {
      problems.push({ field: `${field}.backoff.max`, message: `${show(backoff.max ?? TRIGGER_DEFAULTS.queue.backoff.max)} is shorter than backoff.initial (${String(backoff.initial ?? TRIGGER_DEFAULTS.queue.backoff.initial)})` })
    }
  }
  const deadQueue = recordAt(queue, 'deadLetter')?.queue
  if (typeof deadQueue === 'string' && deadQueue === name) {
    problems.push({ field: `${field}.deadLetter.queue`, message: `${show(deadQueue)} is this trigger's own queue: dead messages cannot go back into it` })
  }
  return problems
}

function cronTriggerProblems (cron: Doc, field: string): FieldProblem[] {
  const problems: FieldProblem[] = []
  const { schedule, timezone } = cron
  // The schema reports a schedule or time zone of the wrong shape; only strings are read here.
  const zone = typeof timezone === 'string' && timezone.length > 0 ? timezone : TRIGGER_DEFAULTS.cron.timezone
  if (typeof schedule === 'string' && schedule.length > 0) {
    problems.push(...cronScheduleProblems(schedule, zone, field).filter((p) => p.field.endsWith('.schedule') || timezone !== undefined))
  } else if (typeof timezone === 'string' && timezone.length > 0) {
    problems.push(...cronScheduleProblems('* * * * *', zone, field).filter((p) => p.field.endsWith('.timezone')))
  }
  problems.push(...durationRange(cron.catchUpWindow, `${field}.catchUpWindow`, TRIGGER_BOUNDS.catchUpWindow))
  return problems
}

// Scaling on a queue needs a queue: without one the backlog is always 0 and the function could never scale up.
function queueMetricProblems (spec: Doc, hasQueue: boolean): FieldProblem[] {
  if (hasQueue) return []
  const scale = recordAt(spec, 'scale')
  if (scale === undefined) return []
  const message = 'scaling on "queue" needs a queue trigger: add `triggers: [{ queue: { name: … } }]`, or use "concurrency" or "rps"'
  const problems: FieldProblem[] = []
  if (scale.metric === 'queue') problems.push({ field: 'spec.scale.metric', message })
  if (Array.isArray(scale.metrics)) {
    scale.metrics.forEach((entry: unknown, i) => {
      if (isRecord(entry) && entry.metric === 'queue') problems.push({ field: `spec.scale.metrics[${i}].metric`, message })
    })
  }
  return problems
}

function durationOr (value: unknown, fallback: string): number | undefined {
  const text = value ?? fallback
  return typeof text === 'string' && durationRe.test(text) ? parseDuration(text) : undefined
}

function durationRange (value: unknown, field: string, bounds: { min: string, max: string }): FieldProblem[] {
  if (typeof value !== 'string' || !durationRe.test(value)) return []
  const ms = parseDuration(value)
  if (ms >= parseDuration(bounds.min) && ms <= parseDuration(bounds.max)) return []
  return [{ field, message: `expected a duration from ${bounds.min} to ${bounds.max}, got ${show(value)}` }]
}
