// POST /orders { "id": "o-1", "items": [...] } → 202: the order is on the
// `orders` queue (durable once this answers) for `fulfil` to work through.
// The order id is the idempotency key: an order posted twice is fulfilled once.
import type { Context } from '@roost/types'

interface Order {
  id: string
  items?: unknown[]
}

export default {
  async fetch (req: Request, ctx: Context): Promise<Response> {
    if (req.method !== 'POST') return new Response('POST an order: { "id": "…", "items": [ … ] }\n', { status: 405, headers: { allow: 'POST' } })
    let order: Order
    try {
      order = await req.json() as Order
    } catch {
      return Response.json({ error: 'the body is not JSON' }, { status: 400 })
    }
    if (typeof order?.id !== 'string' || order.id.length === 0) return Response.json({ error: 'an order has an id' }, { status: 400 })
    const result = await ctx.publish('orders', order, { key: order.id })
    // A duplicate is the same order again: accepted, and not queued a second time.
    return Response.json({ accepted: order.id, message: result.id, duplicate: result.outcome === 'duplicate' }, { status: 202 })
  }
}
