// The request of a queue delivery to the gateway, the same whether the
// messages came from the embedded queue or a broker: the handler contract
// does not depend on where a message waited.
import type { LeasedRecord } from '../events/index.js'
import type { DeliveryRequest } from './consumer.js'
import { queueDeliveryBody } from './delivery-body.js'

export interface QueueTarget {
  namespace: string
  queue: string
  function: string
  deliveryTimeoutMs: number
}

/** POST /fn/<function>.<namespace>/ with x-roost-event: queue and the run's event token; each message carries its own attributes in the body. */
export function queueDeliveryRequest (target: QueueTarget, records: readonly LeasedRecord[], eventToken: string): DeliveryRequest {
  return {
    method: 'POST',
    path: `/fn/${target.function}.${target.namespace}/`,
    headers: [['content-type', 'application/json'], ['x-roost-event', 'queue'], ['x-roost-event-token', eventToken]],
    body: queueDeliveryBody(target.queue, records),
    timeoutMs: target.deliveryTimeoutMs
  }
}
