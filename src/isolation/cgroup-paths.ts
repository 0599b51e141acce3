import { join, posix } from 'node:path'

// Where this process's cgroups are, from the text of /proc/self/cgroup and
// /proc/self/mountinfo: pure, so the logic is tested on any machine.

/** The v1 controllers instances are bounded with; `freezer` stops a cgroup so that it can be emptied without a race. */
export const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer'] as const
export type V1Controller = typeof V1_CONTROLLERS[number]
/** The v2 controllers that must be available in the platform's cgroup. */
export const V2_CONTROLLERS = ['memory', 'pids', 'cpu'] as const

export type CgroupLayout =
  | { version: 1, dirs: Record<V1Controller, string> }
  | { version: 2, dir: string }

interface Mount {
  root: string
  point: string
  fsType: string
  options: string[]
}

/** The mounts of cgroup file systems in a mountinfo text. */
export function cgroupMounts (mountinfo: string): Mount[] {
  const mounts: Mount[] = []
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - ')
    if (separator === -1) continue
    const fields = line.slice(0, separator).split(' ')
    const [fsType, , superOptions = ''] = line.slice(separator + 3).split(' ')
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue
    if (fields.length < 5) continue
    mounts.push({ root: unescapeMount(fields[3]), point: unescapeMount(fields[4]), fsType, options: superOptions.split(',') })
  }
  return mounts
}

/** Per v1 controller (and '' for the v2 hierarchy) the process's cgroup path, from /proc/self/cgroup. */
export function ownCgroups (procCgroup: string): Map<string, string> {
  const own = new Map<string, string>()
  for (const line of procCgroup.split('\n')) {
    const first = line.indexOf(':')
    const second = line.indexOf(':', first + 1)
    if (first === -1 || second === -1) continue
    const controllers = line.slice(first + 1, second)
    const path = line.slice(second + 1)
    if (controllers === '') own.set('', path)
    else for (const controller of controllers.split(',')) own.set(controller, path)
  }
  return own
}

/**
 * The directories of the platform's own cgroups: one per v1 controller when
 * all of V1_CONTROLLERS are mounted, else the v2 cgroup when the unified
 * hierarchy has the controllers (`v2Controllers`: its cgroup.controllers
 * text, read by the caller once the path is known), else null.
 */
export function platformCgroups (procCgroup: string, mountinfo: string, v2Controllers: (dir: string) => string | null): CgroupLayout | null {
  const own = ownCgroups(procCgroup)
  const mounts = cgroupMounts(mountinfo)
  const v1: Partial<Record<V1Controller, string>> = {}
  for (const controller of V1_CONTROLLERS) {
    const path = own.get(controller)
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.options.includes(controller))
    if (path === undefined || mount === undefined) break
    const dir = inMount(mount, path)
    if (dir === null) break
    v1[controller] = dir
  }
  if (V1_CONTROLLERS.every((c) => v1[c] !== undefined)) return { version: 1, dirs: v1 as Record<V1Controller, string> }
  const unified = own.get('')
  const mount = mounts.find((m) => m.fsType === 'cgroup2')
  if (unified === undefined || mount === undefined) return null
  const dir = inMount(mount, unified)
  if (dir === null) return null
  const available = (v2Controllers(dir) ?? '').split(/\s+/)
  return V2_CONTROLLERS.every((c) => available.includes(c)) ? { version: 2, dir } : null
}

/** A cgroup path as a directory under the mount, or null when the mount does not show it. */
function inMount (mount: Mount, path: string): string | null {
  const relative = posix.relative(mount.root, path)
  if (relative.startsWith('..')) return null
  return join(mount.point, relative)
}

function unescapeMount (field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}

/** The names below the platform's cgroup: one group for its instances, one per process in it. */
export function instanceGroupName (platformKey: string): string {
  return `roost-${platformKey}`
}

/** A process name is used as a directory name: only what is safe there. */
export function processGroupName (processName: string): string {
  const safe = processName.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100)
  return safe === '' || safe === '.' || safe === '..' ? '_' : safe
}
