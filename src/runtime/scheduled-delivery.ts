import { objectAt, textAt, timeAt } from './body-fields.js'

/** What a `scheduled` handler gets: one firing of a cron trigger (docs/event-delivery.md). */
export interface ScheduledEvent {
  /** The firing's deterministic id (trigger and scheduled time): the same time never fires twice. */
  id: string
  /** The trigger's name. */
  trigger: string
  /** The schedule as written in the trigger. */
  cron: string
  timezone: string
  /** The intended time of this firing, epoch ms (not when it ran). */
  scheduledTime: number
}

/** The firing in `value` (parsed JSON); throws EventBodyError at the first field that is wrong. */
export function readScheduledDelivery (value: unknown): ScheduledEvent {
  const raw = objectAt(value, '')
  return {
    id: textAt(raw.id, 'id'),
    trigger: textAt(raw.trigger, 'trigger'),
    cron: textAt(raw.cron, 'cron'),
    timezone: textAt(raw.timezone, 'timezone'),
    scheduledTime: timeAt(raw.scheduledTime, 'scheduledTime')
  }
}
