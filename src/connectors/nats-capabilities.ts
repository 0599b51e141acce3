// What the NATS connector needs of its server, checked once at connect from
// the INFO the server sends: nats-server 2.9 or later (the pull-request
// semantics, delayed NAK and consumer updates it relies on) with JetStream
// enabled. 2.9 and 2.10 accept `+TERM` only bare, so a dead message's reason
// stays with Roost; that is the one warning. Pure: it reads INFO's fields.
import { BrokerUnsupportedError } from '../errors/index.js'
import type { Capabilities } from './connector.js'

export const MIN_NATS_VERSION: readonly [number, number] = [2, 9]
/** The first version that takes `+TERM <reason>`. */
export const TERM_REASON_VERSION: readonly [number, number] = [2, 11]

/** The fields of a server's INFO that the check reads. */
export interface NatsServerInfo {
  version?: string
  jetstream?: boolean
  headers?: boolean
}

/**
 * The server as Capabilities. Throws BrokerUnsupportedError, naming the
 * version found, when the server is older than 2.9, has no headers, or runs
 * without JetStream (with the hint to start it with -js).
 */
export function natsCapabilities (info: Readonly<NatsServerInfo>): Capabilities {
  const server = `nats-server ${info.version ?? 'unknown'}`
  const version = parseVersion(info.version)
  if (version === undefined || !atLeast(version, MIN_NATS_VERSION)) {
    throw new BrokerUnsupportedError(`the NATS connector needs nats-server ${MIN_NATS_VERSION.join('.')} or later; the server is ${server}`, {
      hint: 'it uses JetStream pull requests with expiry, delayed NAK and consumer updates as 2.9 has them: upgrade the server'
    })
  }
  if (info.headers === false) {
    throw new BrokerUnsupportedError(`${server} does not support message headers`, {
      hint: 'message attributes travel in headers: enable them on the server (they are on unless no_header_support is set)'
    })
  }
  if (info.jetstream !== true) {
    throw new BrokerUnsupportedError(`${server} runs without JetStream`, {
      hint: 'start nats-server with -js (or a jetstream {} block in its configuration)'
    })
  }
  const warnings: string[] = []
  if (!atLeast(version, TERM_REASON_VERSION)) {
    warnings.push(`${server} takes no reason with +TERM: a dead message is terminated bare, and its reason is kept only in Roost's dead record`)
  }
  return { server, warnings }
}

/** Whether a server of this version takes `+TERM <reason>`. */
export function takesTermReason (version: string | undefined): boolean {
  const found = parseVersion(version)
  return found !== undefined && atLeast(found, TERM_REASON_VERSION)
}

/** `[major, minor, patch]` of `2.9.10`, `2.10.0-beta.1`, `v2.11.3`; undefined for anything else. */
export function parseVersion (version: string | undefined): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version ?? '')
  if (match === null) return undefined
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)]
}

function atLeast (found: readonly [number, number, number], [major, minor]: readonly [number, number]): boolean {
  return found[0] > major || (found[0] === major && found[1] >= minor)
}
