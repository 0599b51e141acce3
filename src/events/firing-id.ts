/**
 * A cron firing's record id: its trigger and its scheduled time, nothing that
 * depends on when or how often the scheduler ran, so a restart, a second
 * scheduler or a catch-up can never fire the same time twice.
 */
export function firingId (namespace: string, trigger: string, scheduledTime: number): string {
  return `cron:${namespace}/${trigger}@${new Date(scheduledTime).toISOString()}`
}
