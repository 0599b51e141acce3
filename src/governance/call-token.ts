import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// The proof that a request comes from a function of the platform: a call token.
// `roost up` makes one random key per run (PlatformCallKey.generate, never
// stored). When an instance loads, the platform gives it the token of its
// function, `rc1.<namespace>.<name>.<base64url HMAC-SHA256(key, "rc1\0ns\0name")>`,
// and every call the instance makes through the gateway carries it in the
// `x-roost-call` header. The gateway recomputes the MAC for the namespace and
// name the token claims: no table of tokens, nothing to revoke (a restart makes a
// new key, and every instance is new after one), and the caller's identity is
// read off the token itself. The gateway strips the header from every request it
// forwards, so no function ever sees another's token and cannot replay it.
//
// Names are DNS labels (no "."), so the token splits on "." without ambiguity.

export const CALL_TOKEN_HEADER = 'x-roost-call'
const VERSION = 'rc1'
const KEY_BYTES = 32
const MAC_CHARS = 43
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
/** Past this many remembered tokens the memory starts over (there is one token per function). */
const VERIFIED_CACHE_SIZE = 4096

export interface CallingFunction {
  namespace: string
  name: string
  /** `fn:<namespace>/<name>`: the identity the gateway passes on as ctx.caller. */
  caller: string
}

export class PlatformCallKey {
  private readonly verified = new Map<string, CallingFunction>()

  private constructor (private readonly key: Buffer) {}

  static generate (): PlatformCallKey {
    return new PlatformCallKey(randomBytes(KEY_BYTES))
  }

  /** The key of another process or worker, from `bytes()` sent there. */
  static fromBytes (bytes: Uint8Array): PlatformCallKey {
    if (bytes.byteLength !== KEY_BYTES) throw new RangeError(`a platform call key is ${KEY_BYTES} bytes, got ${bytes.byteLength}`)
    return new PlatformCallKey(Buffer.from(bytes))
  }

  /** A copy of the key, to hand to the gateway worker (structured clone) or the instance manager. */
  bytes (): Uint8Array {
    return Uint8Array.from(this.key)
  }

  /** The token an instance of this function gets at load. */
  mint (namespace: string, name: string): string {
    if (!LABEL.test(namespace) || !LABEL.test(name)) throw new RangeError(`a call token names a namespace and a function by DNS labels, got ${namespace}/${name}`)
    return `${VERSION}.${namespace}.${name}.${this.mac(namespace, name).toString('base64url')}`
  }

  /** The function a token was minted for, or undefined when this key did not mint it. */
  verify (token: string): CallingFunction | undefined {
    const known = this.verified.get(token)
    if (known !== undefined) return known
    const found = this.check(token)
    if (found === undefined) return undefined
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear()
    this.verified.set(token, found)
    return found
  }

  private check (token: string): CallingFunction | undefined {
    if (!token.startsWith(`${VERSION}.`)) return undefined
    const nsEnd = token.indexOf('.', VERSION.length + 1)
    const nameEnd = nsEnd < 0 ? -1 : token.indexOf('.', nsEnd + 1)
    if (nameEnd < 0 || token.length - nameEnd - 1 !== MAC_CHARS) return undefined
    const namespace = token.slice(VERSION.length + 1, nsEnd)
    const name = token.slice(nsEnd + 1, nameEnd)
    if (!LABEL.test(namespace) || !LABEL.test(name)) return undefined
    const offered = Buffer.from(token.slice(nameEnd + 1), 'base64url')
    if (offered.byteLength !== KEY_BYTES || !timingSafeEqual(offered, this.mac(namespace, name))) return undefined
    return Object.freeze({ namespace, name, caller: `fn:${namespace}/${name}` })
  }

  private mac (namespace: string, name: string): Buffer {
    return createHmac('sha256', this.key).update(`${VERSION}\0${namespace}\0${name}`).digest()
  }
}
