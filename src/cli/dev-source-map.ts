import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

// A bundle's inline source map names its sources relative to the manifest's
// folder, so a stack trace of a bundle run from elsewhere would point beside it;
// `roost dev` makes them absolute, so that file:line opens the file being edited.

const MARKER = '//# sourceMappingURL=data:application/json;base64,'

export function withAbsoluteSources (code: string, root: string): string {
  const at = code.lastIndexOf(MARKER)
  if (at === -1) return code
  const end = code.indexOf('\n', at)
  const encoded = code.slice(at + MARKER.length, end === -1 ? undefined : end).trim()
  let map: { sources?: unknown }
  try {
    map = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { sources?: unknown }
  } catch {
    return code
  }
  if (!Array.isArray(map.sources)) return code
  map.sources = map.sources.map((source: unknown) => typeof source !== 'string' || isAbsolute(source) || /^[a-z]+:/i.test(source) ? source : pathToFileURL(resolve(root, source)).href)
  return `${code.slice(0, at)}${MARKER}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`
}
