// The Roost error for a failed AMQP operation: a queue that is not there
// (404) is BrokerMissingError naming it, one declared with other arguments
// (406) a ConflictError, and a closed channel or connection, or a broker that
// cannot serve now, BrokerUnavailableError. Also the URL as messages may show it.
import { BrokerMissingError, BrokerUnavailableError, ConflictError, isRoostError } from '../errors/index.js'

const NOT_FOUND = 404
const PRECONDITION_FAILED = 406

export function rabbitFailure (err: unknown, address: string, queue?: string): Error {
  if (isRoostError(err)) return err
  const code = (err as { code?: unknown } | null)?.code
  const reason = err instanceof Error ? err.message : String(err)
  if (code === NOT_FOUND && queue !== undefined) return queueMissing(queue, address, err)
  if (code === PRECONDITION_FAILED && queue !== undefined && /inequivalent arg/.test(reason)) {
    return new ConflictError(`RabbitMQ queue ${JSON.stringify(queue)} on ${address} exists with other arguments than the trigger's: ${reason}`, {
      field: 'queue',
      hint: 'Roost declares a quorum queue with x-delivery-limit maxAttempts+1 and a dead-letter exchange <queue>.dlx: delete the queue, use another name, or set create: false to use it as it is',
      cause: err
    })
  }
  return new BrokerUnavailableError(`RabbitMQ at ${address} is unavailable: ${reason}`, {
    hint: 'the connector reconnects by itself with backoff; check that the server runs and is reachable',
    cause: err
  })
}

export function queueMissing (queue: string, address: string, cause?: unknown): BrokerMissingError {
  return new BrokerMissingError(`RabbitMQ queue ${JSON.stringify(queue)} does not exist on ${address}`, {
    field: 'queue',
    hint: 'create the queue (a quorum queue, for the delivery count), or let the trigger create it (create: true)',
    cause
  })
}

export function unavailable (address: string, why: string): BrokerUnavailableError {
  return new BrokerUnavailableError(`RabbitMQ at ${address} is unavailable: ${why}`, {
    hint: 'the connector reconnects by itself with backoff'
  })
}

/** `amqp://host:port/vhost` of an AMQP URL, for messages: never its credentials. */
export function rabbitAddress (url: string): string {
  try {
    const parsed = new URL(url)
    const port = parsed.port !== '' ? parsed.port : parsed.protocol === 'amqps:' ? '5671' : '5672'
    return `${parsed.protocol}//${parsed.hostname}:${port}${parsed.pathname.length > 1 ? parsed.pathname : ''}`
  } catch {
    return 'an unparseable AMQP URL'
  }
}
