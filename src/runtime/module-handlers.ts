import type { Context } from './context.js'
import type { MessageBatch } from './message-batch.js'
import type { ScheduledEvent } from './scheduled-delivery.js'

export type FetchHandler = (req: Request, ctx: Context) => unknown
export type QueueHandler = (batch: MessageBatch, ctx: Context) => unknown
export type ScheduledHandler = (event: ScheduledEvent, ctx: Context) => unknown

/** What a function module serves: at least one of them is there. */
export interface ModuleHandlers {
  fetch: FetchHandler | null
  queue: QueueHandler | null
  scheduled: ScheduledHandler | null
}

const KINDS = ['fetch', 'queue', 'scheduled'] as const

/**
 * The handlers of a module's default export: a function is the fetch handler;
 * an object gives any of `fetch`, `queue` and `scheduled` (bound to it, so
 * `this` works). Throws with what was wrong, reported as load-failed.
 */
export function resolveHandlers (exported: unknown): ModuleHandlers {
  if (typeof exported === 'function') return { fetch: exported as FetchHandler, queue: null, scheduled: null }
  if (exported === null || typeof exported !== 'object') {
    throw new TypeError(`the module's default export must be a function (req, ctx) => Response or an object with fetch, queue or scheduled methods; got ${exported === null ? 'null' : typeof exported}`)
  }
  const handlers: ModuleHandlers = { fetch: null, queue: null, scheduled: null }
  for (const kind of KINDS) {
    const handler = (exported as Record<string, unknown>)[kind]
    if (handler === undefined || handler === null) continue
    if (typeof handler !== 'function') throw new TypeError(`the module's default export has a ${kind} that is not a function (${typeof handler})`)
    handlers[kind] = handler.bind(exported) as never
  }
  if (handlers.fetch === null && handlers.queue === null && handlers.scheduled === null) {
    throw new TypeError('the module\'s default export must be a function (req, ctx) => Response or an object with fetch, queue or scheduled methods; got an object with none of them')
  }
  return handlers
}
