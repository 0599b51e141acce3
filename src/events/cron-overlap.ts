// What a cron firing does when earlier firings of the same trigger still run
// (Kubernetes CronJob's concurrencyPolicy).

/** allow: run side by side. forbid: skip this firing while one runs. replace: cancel the running ones, then run this one. */
export type OverlapPolicy = 'allow' | 'forbid' | 'replace'

export type OverlapDecision = 'start' | 'skip' | 'replace'

export function overlapDecision (policy: OverlapPolicy, running: number): OverlapDecision {
  if (running <= 0 || policy === 'allow') return 'start'
  return policy === 'forbid' ? 'skip' : 'replace'
}
