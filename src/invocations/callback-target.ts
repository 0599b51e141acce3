// Where a callback may go. X-Callback-Url is chosen by whoever calls a
// function, so without this any caller could make the platform POST into its
// own network (the admin API on loopback, a cloud metadata endpoint, a
// database's HTTP port): server-side request forgery. Addresses are checked
// after the name is resolved, on the very address the connection uses, so a
// name that resolves to a public address first and a private one later
// (DNS rebinding) gains nothing.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { Agent } from 'undici'
import { CallbackRefusedError } from '../errors/index.js'

// Loopback, private, link-local (cloud metadata at 169.254.169.254), shared (CGNAT), unspecified,
// multicast and reserved ranges: none is a receiver on the internet.
const NOT_PUBLIC = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) NOT_PUBLIC.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b:1::', 48], ['2001:db8::', 32]
] as const) NOT_PUBLIC.addSubnet(network, prefix, 'ipv6')

/** Whether an IP address is one a callback may not reach unless the platform allows private callbacks. */
export function isPrivateAddress (address: string): boolean {
  const family = isIP(address)
  if (family === 4) return NOT_PUBLIC.check(address, 'ipv4')
  if (family !== 6) return true
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is that IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return NOT_PUBLIC.check(mapped[1] as string, 'ipv4')
  return NOT_PUBLIC.check(address, 'ipv6')
}

/** The refusal's text: the cause and the way to allow it. */
export function privateCallbackRefusal (host: string, address: string): string {
  const where = host === address ? address : `${host} (${address})`
  return `refused: the callback URL's host ${where} is a loopback, private or link-local address; ` +
    '`roost up --allow-private-callbacks` allows such receivers'
}

/** The URL's host as an address when it is an IP literal (brackets taken off an IPv6 one), else undefined. */
export function literalAddressOf (url: URL): string | undefined {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return isIP(host) === 0 ? undefined : host
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/** dns.lookup for net.connect that fails when the name resolves to any address a callback may not reach. */
function publicOnlyLookup (hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err !== null) return callback(err, [])
    const refused = addresses.find((a) => isPrivateAddress(a.address))
    if (refused !== undefined) return callback(new CallbackRefusedError(privateCallbackRefusal(hostname, refused.address)), [])
    if (options.all === true) return callback(null, addresses)
    const first = addresses[0] as LookupAddress
    callback(null, first.address, first.family)
  })
}

let publicAgent: Agent | undefined

/** The connection pool callbacks use when private receivers are not allowed: every name is resolved through publicOnlyLookup. */
export function publicOnlyDispatcher (): Agent {
  publicAgent ??= new Agent({ connect: { lookup: publicOnlyLookup } })
  return publicAgent
}
