// The autoscaler's view of queues: per function version, its share of the
// backlog of the queues its function consumes (cron firings included), and
// when a message of them last finished. A function split between versions
// gives each the share of its traffic percent, as the gateway splits deliveries.
import type { VersionQueueLoad } from '../autoscaler/index.js'
import type { QueueStats } from '../events/index.js'
import { versionKey } from '../instances/index.js'
import type { QueueConsumer } from './consumer.js'
import { functionKey } from './consumer.js'

export interface ServedShare {
  version: number
  percent: number
}

export function queueLoads (
  consumers: ReadonlyArray<Pick<QueueConsumer, 'namespace' | 'queue' | 'function'>>,
  statsOf: (namespace: string, queue: string) => QueueStats,
  servingOf: (namespace: string, name: string) => readonly ServedShare[] | undefined
): VersionQueueLoad[] {
  const byFunction = new Map<string, { namespace: string, name: string, backlog: number, lastCompletedAt: number | undefined }>()
  for (const consumer of consumers) {
    const key = functionKey(consumer.namespace, consumer.function)
    const stats = statsOf(consumer.namespace, consumer.queue)
    const entry = byFunction.get(key) ?? { namespace: consumer.namespace, name: consumer.function, backlog: 0, lastCompletedAt: undefined }
    entry.backlog += stats.backlog
    if (stats.lastCompletedAt !== undefined) entry.lastCompletedAt = Math.max(entry.lastCompletedAt ?? -Infinity, stats.lastCompletedAt)
    byFunction.set(key, entry)
  }
  const loads: VersionQueueLoad[] = []
  for (const entry of byFunction.values()) {
    for (const share of servingOf(entry.namespace, entry.name) ?? []) {
      if (share.percent <= 0) continue
      loads.push({ key: versionKey(entry.namespace, entry.name, share.version), backlog: entry.backlog * share.percent / 100, lastCompletedAt: entry.lastCompletedAt })
    }
  }
  return loads
}
