// Consumes the `orders` queue: each order takes about a second of I/O (a
// warehouse call, simulated with a timer), the messages of a batch in
// parallel. A FULFIL_LOG_URL, when set, receives one POST per order done,
// so a test can count orders processed against orders accepted.
import type { Context, MessageBatch } from '@roost/types'

interface Order {
  id: string
  items?: unknown[]
}

const WORK_MS = Number(process.env.FULFIL_WORK_MS ?? 1000)

async function fulfil (order: Order, attempt: number, ctx: Context): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, WORK_MS))
  const log = process.env.FULFIL_LOG_URL
  if (log !== undefined && log !== '') {
    await fetch(log, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ order: order.id, attempt }) })
  }
  ctx.log.info(`fulfilled ${order.id} (attempt ${attempt})`)
}

export default {
  async queue (batch: MessageBatch<Order>, ctx: Context): Promise<void> {
    await Promise.all(batch.map(async (message) => {
      try {
        await fulfil(message.body, message.attempt, ctx)
        message.ack()
      } catch (err) {
        // One bad order does not fail its batch: it alone is retried.
        message.retry()
        ctx.log.warn(`order ${message.body.id}: ${(err as Error).message}`)
      }
    }))
  }
}
