// The NATS connection the connector works through, set up in one place: the
// URL's credentials taken out into options (they are never in a message), the
// client's own reconnect loop kept going for good on Roost's backoff
// schedule, and the client's errors turned into Roost's.
import type { ConnectionOptions } from '@nats-io/transport-node'
import { errors as natsErrors } from '@nats-io/transport-node'
import { JetStreamApiError } from '@nats-io/jetstream'
import { BrokerUnavailableError, BrokerUnsupportedError, isRoostError } from '../errors/index.js'

/** How long a JetStream API call, publish or acknowledgement waits for the server's answer. */
export const NATS_REQUEST_TIMEOUT_MS = 5_000

export interface NatsConnectionSettings {
  url: string
  name: string
  /** The wait before each reconnect try, asked by the client before each one. */
  reconnectWait: () => number
}

/** Options for the client's connect(): one server, reconnected for ever, credentials from the URL. */
export function natsConnectionOptions (settings: NatsConnectionSettings): ConnectionOptions {
  const parsed = new URL(settings.url)
  const options: ConnectionOptions = {
    servers: `${parsed.hostname}:${parsed.port === '' ? '4222' : parsed.port}`,
    name: settings.name,
    timeout: NATS_REQUEST_TIMEOUT_MS,
    maxReconnectAttempts: -1,
    reconnectDelayHandler: settings.reconnectWait,
    // A connection that goes silent (no reset, no close) is found within about 20 s.
    pingInterval: 10_000,
    maxPingOut: 2,
    // Async traces build a RequestError and a TimeoutError, stacks captured, for every request, and every settlement is one: a third of the platform thread's time under load.
    noAsyncTraces: true
  }
  const user = decodeURIComponent(parsed.username)
  const pass = decodeURIComponent(parsed.password)
  if (user !== '' && pass !== '') Object.assign(options, { user, pass })
  else if (user !== '') options.token = user
  if (parsed.protocol === 'tls:' || parsed.searchParams.get('tls') === 'true') options.tls = {}
  return options
}

/** `nats://host:port` of a NATS URL, for messages: never its credentials. */
export function natsAddress (url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port === '' ? '4222' : parsed.port}`
  } catch {
    return 'an unparseable NATS URL'
  }
}

/** Whether `err` is JetStream's answer that the stream (10059) or the consumer (10014) is not there. */
export function isNotFound (err: unknown, what: 'stream' | 'consumer'): boolean {
  return err instanceof JetStreamApiError && err.code === (what === 'stream' ? 10059 : 10014)
}

/**
 * The Roost error for a failed call: BrokerUnavailableError when the
 * connection is down, closed or did not answer in time, BrokerUnsupportedError
 * when the account has no JetStream, and JetStream's other answers as they
 * are (they mean a bug or a misconfiguration, not an outage).
 */
export function natsFailure (err: unknown, where: string): Error {
  if (isRoostError(err)) return err
  if (isNoStreamAnswer(err)) {
    return new BrokerUnsupportedError(`JetStream is not enabled for this account on ${where}`, {
      hint: 'start nats-server with -js, and give the account JetStream (jetstream: enabled)', cause: err
    })
  }
  if (err instanceof JetStreamApiError && err.code === 10039) {
    return new BrokerUnsupportedError(`JetStream is not enabled for this account on ${where}`, { hint: 'give the account JetStream', cause: err })
  }
  if (err instanceof natsErrors.TimeoutError || err instanceof natsErrors.ConnectionError ||
    err instanceof natsErrors.ClosedConnectionError || err instanceof natsErrors.RequestError ||
    err instanceof natsErrors.DrainingConnectionError) {
    return unavailable(where, describe(err), err)
  }
  return err instanceof Error ? err : new Error(String(err))
}

/** NATS at `where` is away: the connector reconnects by itself. */
export function unavailable (where: string, reason: string, cause?: unknown): BrokerUnavailableError {
  return new BrokerUnavailableError(`NATS at ${where} is unavailable: ${reason}`, {
    hint: 'the connector reconnects by itself with backoff; check that the server runs and is reachable', cause
  })
}

export function describe (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0])
  if (err instanceof Error) return err.message === '' ? err.name : err.message
  return String(err)
}

/** The client's answer when no one serves a JetStream request: no JetStream, or no stream captures a published subject. */
export function isNoStreamAnswer (err: unknown): boolean {
  return err instanceof Error && err.name === 'JetStreamNotEnabled'
}
