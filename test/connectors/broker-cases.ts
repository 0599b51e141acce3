// What each broker's own cases (nats, redis, rabbitmq .test.ts) share besides
// the contract: a connector and subscription opened for one test and removed
// after it, bounded fetches, and a JSON message to publish.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { createConnector } from '../../src/connectors/index.js'
import type { BrokerMessage, Connector, ConnectorKind, OutgoingMessage, QueueBinding, Subscription } from '../../src/connectors/index.js'

/** How long a bounded wait of these cases waits for what must come. */
export const BOUND_MS = 30_000

export interface Opened {
  connector: Connector
  queue: QueueBinding
  subscription: Subscription
}

/** `open(t, name)`: a connected connector and a subscription on a queue of this run, closed and removed after the test. */
export function opener (
  kind: ConnectorKind,
  url: string,
  binding: (url: string, name: string, overrides?: Partial<QueueBinding>) => QueueBinding,
  cleanup: (queue: QueueBinding) => Promise<void>
): (t: TestContext, name: string, overrides?: Partial<QueueBinding>) => Promise<Opened> {
  return async (t, name, overrides = {}) => {
    const connector = createConnector({ kind, url })
    const queue = binding(url, name, overrides)
    t.after(async () => {
      await connector.close()
      await cleanup(queue)
    })
    await connector.connect()
    return { connector, queue, subscription: await connector.subscribe(queue) }
  }
}

export async function fetchOne (subscription: Subscription, timeoutMs = BOUND_MS): Promise<BrokerMessage> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const [message] = await subscription.fetch(1, 500)
    if (message !== undefined) return message
  }
  throw new Error(`no message within ${timeoutMs} ms`)
}

export async function fetchNothing (subscription: Subscription, forMs: number): Promise<void> {
  const end = Date.now() + forMs
  while (Date.now() < end) {
    const batch = await subscription.fetch(10, Math.max(1, Math.min(500, end - Date.now())))
    assert.deepEqual(batch.map((m) => m.id), [], 'nothing is delivered')
  }
}

/** A JSON message as the tests of `kind` publish it. */
export function outgoingOf (kind: ConnectorKind): (id: string, body: unknown) => OutgoingMessage {
  return (id, body) => ({
    id, body: Buffer.from(JSON.stringify(body)), bodyType: 'json', source: `/tests/${kind}`, type: 'dev.roost.test', contentType: 'application/json', attributes: {}
  })
}
