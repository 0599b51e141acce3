import { DataKeyError } from '../errors/index.js'
import type { SecretBox } from './secret-box.js'
import { SEALED_PREFIX } from './secret-box.js'

// Which values the store seals: every string value of the `env` map at the
// top of a resource's spec and of a version's config, of a Secret's `data`,
// and of the `secretEnv` a version resolved from secrets. A sealed value is stored
// as { "$sealed": "v1...." }: env values are strings, so an object can never be
// mistaken for a plain value (and plain values of an old database still read).
const SEALED_MAPS = ['env', 'data', 'secretEnv'] as const
const MARK = '$sealed'

export interface SealedPlace {
  kind: string // a resource's kind, or 'Version'
  namespace: string
  name: string // the resource's name, or the function's for a version
}

export class EnvSealer {
  constructor (private readonly box: SecretBox) {}

  // A copy of `holder` whose env values are sealed; the holder is not changed.
  seal (place: SealedPlace, holder: unknown): unknown {
    return this.map(holder, (key, value, field) => typeof value === 'string' ? { [MARK]: this.box.seal(value, context(place, field, key)) } : value)
  }

  // A copy of `holder` whose sealed env values are opened again.
  open (place: SealedPlace, holder: unknown): unknown {
    return this.map(holder, (key, value, field) => {
      const sealed = sealedText(value)
      if (sealed === undefined) return value
      const plain = this.box.open(sealed, context(place, field, key))
      if (plain === undefined) {
        throw new DataKeyError(`${field} value ${key} of ${place.kind} ${place.namespace}/${place.name} does not open with this platform's data key`, {
          hint: 'the row was altered, or the database was sealed with another key file; restore the key that belongs to this database'
        })
      }
      return plain
    })
  }

  // Whether a stored holder still has a plain value, from a database written before sealing.
  hasPlain (holder: unknown): boolean {
    let plain = false
    this.map(holder, (_key, value) => {
      if (typeof value === 'string') plain = true
      return value
    })
    return plain
  }

  sealText (place: SealedPlace, field: string, text: string): string {
    return this.box.seal(text, context(place, field, ''))
  }

  // A text without the prefix is plain: what an old database holds.
  openText (place: SealedPlace, field: string, text: string): string {
    if (!text.startsWith(SEALED_PREFIX)) return text
    const plain = this.box.open(text, context(place, field, ''))
    if (plain === undefined) {
      throw new DataKeyError(`${field} of ${place.kind} ${place.namespace}/${place.name} does not open with this platform's data key`, {
        hint: 'the row was altered, or the database was sealed with another key file; restore the key that belongs to this database'
      })
    }
    return plain
  }

  private map (holder: unknown, change: (key: string, value: unknown, field: string) => unknown): unknown {
    if (!isRecord(holder)) return holder
    let copy: Record<string, unknown> | undefined
    for (const field of SEALED_MAPS) {
      const values = holder[field]
      if (!isRecord(values)) continue
      const changed: Record<string, unknown> = {}
      // defineProperty: a key such as "__proto__" stays a plain key, as JSON.parse made it
      for (const key of Object.keys(values)) Object.defineProperty(changed, key, { value: change(key, values[key], field), enumerable: true, writable: true, configurable: true })
      copy ??= { ...holder }
      copy[field] = changed
    }
    return copy ?? holder
  }
}

function sealedText (value: unknown): string | undefined {
  if (!isRecord(value)) return undefined
  const text = value[MARK]
  return typeof text === 'string' && Object.keys(value).length === 1 ? text : undefined
}

function context (place: SealedPlace, field: string, key: string): string {
  return `roost\0${place.kind}\0${place.namespace}\0${place.name}\0${field}\0${key}`
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
