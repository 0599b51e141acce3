import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { validateFunction } from '../api/index.js'
import { ValidationError } from '../errors/index.js'
import { located, type LoadedManifest } from './manifest-files.js'

// `spec.http.auth.keysFile` names a file beside the manifest, which only the
// machine running `roost apply` can read: the CLI reads it and sends its keys
// inline (a JWKS or JWK as `jwks`, PEM blocks as `keys`), so the platform never
// opens a path a manifest names. apply and diff both go through here, so what
// diff compares is what apply stores.

const FIELD = 'spec.http.auth.keysFile'
const MAX_FILE_BYTES = 1024 * 1024
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

type Doc = Record<string, unknown>

/** Replaces a manifest's keysFile with the keys the file holds, and validates the result again. */
export function inlineKeysFile (manifest: LoadedManifest): void {
  if (manifest.type !== 'function') return
  const auth = authOf(manifest.doc)
  if (auth === undefined || typeof auth.keysFile !== 'string') return
  located(manifest.where, () => {
    const found = readKeys(resolve(manifest.root, auth.keysFile as string), auth.keysFile as string)
    delete auth.keysFile
    if (found.jwks !== undefined) auth.jwks = { keys: [...(((auth.jwks as Doc | undefined)?.keys as unknown[] | undefined) ?? []), ...found.jwks] }
    if (found.pems !== undefined) auth.keys = [...((auth.keys as unknown[] | undefined) ?? []), ...found.pems.map((pem) => ({ pem }))]
    manifest.resource = validateFunction(manifest.doc)
  })
}

function readKeys (path: string, written: string): { jwks?: unknown[], pems?: string[] } {
  let text: string
  try {
    if (statSync(path).size > MAX_FILE_BYTES) throw refused(`${written} is larger than ${MAX_FILE_BYTES / 1024} KiB; a keys file holds a few public keys`)
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (err instanceof ValidationError) throw err
    throw refused(`cannot read ${written} (relative to the manifest): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (text.trimStart().startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw refused(`${written} is not valid JSON: ${(err as Error).message}`)
    }
    const doc = parsed as Doc
    if (Array.isArray(doc.keys)) return { jwks: doc.keys }
    if (typeof doc.kty === 'string') return { jwks: [doc] }
    throw refused(`${written} is JSON but neither a JWKS ({ "keys": [...] }) nor a JWK ({ "kty": ... })`)
  }
  const pems = text.match(PEM_BLOCK)
  if (pems === null) throw refused(`${written} holds neither JSON (a JWKS or JWK) nor PEM blocks (-----BEGIN PUBLIC KEY-----)`)
  return { pems: pems.map((pem) => `${pem}\n`) }
}

function refused (message: string): ValidationError {
  return new ValidationError([{ field: FIELD, message }])
}

function authOf (doc: unknown): Doc | undefined {
  const auth = (doc as { spec?: { http?: { auth?: unknown } } } | null)?.spec?.http?.auth
  return typeof auth === 'object' && auth !== null && !Array.isArray(auth) ? auth as Doc : undefined
}
