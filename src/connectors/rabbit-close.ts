// Closing an amqplib channel or connection without waiting forever: amqplib
// 2.3 settles close() only when the broker answers close-ok, so when the
// connection dies in between its promise never settles, though the 'close'
// event still comes. Whichever is first ends the wait, and a bound ends it
// when neither comes (a connection that died silently, until heartbeats notice).
import { once } from 'node:events'
import type { EventEmitter } from 'node:events'

/** The longest a close waits for the broker's answer or the 'close' event. */
export const CLOSE_TIMEOUT_MS = 5_000

/** Runs `close` and resolves once it settled or `emitter` emitted 'close', whichever is first; never rejects. */
export async function closedEither (emitter: EventEmitter | undefined, close: () => Promise<unknown>): Promise<void> {
  const controller = new AbortController()
  const waits: Promise<unknown>[] = [Promise.resolve().then(close).catch(ignore)]
  if (emitter !== undefined) waits.push(once(emitter, 'close', { signal: controller.signal }).catch(ignore))
  let timer: NodeJS.Timeout | undefined
  waits.push(new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_TIMEOUT_MS) }))
  try {
    await Promise.race(waits)
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
}

function ignore (): void {}
