import { pathToFileURL } from 'node:url'
import { installLightResponse } from './light-response.js'
import { resolveHandlers, type ModuleHandlers } from './module-handlers.js'
import type { LoadMessage } from './protocol.js'

/**
 * Turns this process into an instance of a function: its env, the user it
 * runs as, then its module. Throws with the reason if any step fails; the
 * caller reports it as load-failed.
 */
export async function loadBundle (message: LoadMessage): Promise<ModuleHandlers> {
  Object.assign(process.env, message.env, {
    ROOST_FUNCTION: message.fn.name,
    ROOST_NAMESPACE: message.fn.namespace,
    ROOST_VERSION: String(message.fn.version),
    ROOST_INSTANCE: message.instanceId
  })
  // The instance manager spawns at /; the permission model may refuse even a chdir to where the process already is.
  if (process.cwd() !== '/') process.chdir('/')
  if (message.uid !== undefined || message.gid !== undefined) dropPrivileges(message.uid, message.gid)
  installLightResponse()
  const mod = await import(pathToFileURL(message.bundlePath).href) as { default?: unknown }
  return resolveHandlers(mod.default)
}

/** User code never runs privileged: groups, then group, then user (the last one ends the right to change the others). */
export function dropPrivileges (uid: number | undefined, gid: number | undefined): void {
  const { setgroups, setgid, setuid } = process
  if (setgroups === undefined || setgid === undefined || setuid === undefined) throw new Error('this platform cannot change the user of a process')
  try {
    setgroups([])
    if (gid !== undefined) setgid(gid)
    if (uid !== undefined) setuid(uid)
  } catch (err) {
    throw new Error(`could not drop privileges to uid ${String(uid)} gid ${String(gid)}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if ((uid !== undefined && process.getuid?.() !== uid) || (gid !== undefined && process.getgid?.() !== gid)) {
    throw new Error(`could not drop privileges to uid ${String(uid)} gid ${String(gid)}: the process still runs as ${String(process.getuid?.())}:${String(process.getgid?.())}`)
  }
}
