import { realpathSync } from 'node:fs'
import { delimiter, isAbsolute, join, relative, sep } from 'node:path'

/**
 * How the user can run this CLI again from the current folder, for the
 * commands we print as advice: `roost` when that is on PATH and is us, else
 * the path of bin/roost from here (`bin/roost` in a clone, as the tour says).
 */
export function cliCommand (env: NodeJS.ProcessEnv = process.env, script = process.argv[1], cwd = process.cwd()): string {
  const self = realOrUndefined(script)
  if (self === undefined) return 'roost'
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && realOrUndefined(join(dir, 'roost')) === self) return 'roost'
  }
  const rel = relative(cwd, script)
  if (rel === '' || isAbsolute(rel) || rel.split(sep).filter((part) => part === '..').length > 2) return script
  return rel.includes(sep) ? rel : `.${sep}${rel}`
}

function realOrUndefined (path: string | undefined): string | undefined {
  if (path === undefined) return undefined
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}
