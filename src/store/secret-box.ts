import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

// Format of a sealed value: `v1.` + base64url(iv | ciphertext | tag). The
// prefix names the scheme, so that a later one can be read beside this one.
export const SEALED_PREFIX = 'v1.'
const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12
const TAG_BYTES = 16
export const KEY_BYTES = 32
// Values opened before, by sealed text and context: the controller reads every
// function's spec and versions on each reconcile, and a decipher costs tens of µs.
const OPENED_CACHE_SIZE = 4096

// AES-256-GCM with a fresh random IV per value. The associated data binds a
// value to where it is stored (kind, namespace, name, field), so that a value
// copied to another row of the database does not open there.
export class SecretBox {
  private readonly opened = new Map<string, string>()

  constructor (private readonly key: Buffer) {
    if (key.byteLength !== KEY_BYTES) throw new RangeError(`a data key is ${KEY_BYTES} bytes, got ${key.byteLength}`)
  }

  seal (plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(context, 'utf8'))
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
  }

  // Undefined when the value does not open with this key and context: another
  // key, another row, or altered bytes. GCM never returns garbled text.
  open (sealed: string, context: string): string | undefined {
    const cacheKey = `${context}\0${sealed}`
    const known = this.opened.get(cacheKey)
    if (known !== undefined) return known
    const plain = this.decipher(sealed, context)
    if (plain !== undefined) {
      // a fresh IV makes every sealed text new: old entries are of values overwritten since
      if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.clear()
      this.opened.set(cacheKey, plain)
    }
    return plain
  }

  private decipher (sealed: string, context: string): string | undefined {
    if (!sealed.startsWith(SEALED_PREFIX)) return undefined
    const data = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url')
    if (data.byteLength < IV_BYTES + TAG_BYTES) return undefined
    const decipher = createDecipheriv(ALGORITHM, this.key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(context, 'utf8'))
    decipher.setAuthTag(data.subarray(data.byteLength - TAG_BYTES))
    try {
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.byteLength - TAG_BYTES)), decipher.final()]).toString('utf8')
    } catch {
      return undefined
    }
  }
}
