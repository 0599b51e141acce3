import { createHash } from 'node:crypto'
import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// What instances may see of the platform's files lives here, outside
// $ROOST_HOME (0700): sockets only the platform can open, bundles readable by
// their namespace's group, and each process's own temp dir.
//
//   <runDir>            0711 (enter, not list)
//     sockets/          0700: only the platform connects to data sockets
//     bundles/<gid>/    0750 root:<gid>, files 0640 root:<gid>
//     tmp/<process>/    0700, the process's uid once it loads: HOME and TMPDIR
//     proc/<process>/   a process's copy of its bundle, without uid switching (permission model)

/** A key naming one platform's cgroups and run dir: a short hash of its home. */
export function platformKey (home: string): string {
  return createHash('sha256').update(home).digest('hex').slice(0, 12)
}

/** The default run dir of the platform whose home is `home`. */
export function runDirFor (home: string): string {
  return join(tmpdir(), `roost-${platformKey(home)}`)
}

export class RunDir {
  readonly sockets: string
  readonly bundles: string
  readonly tmp: string
  readonly proc: string

  /** Creates the run dir (emptied: nothing from a previous run is trusted) with the modes above. */
  constructor (readonly path: string) {
    claimDir(path)
    for (const sub of ['sockets', 'bundles', 'tmp', 'proc']) rmSync(join(path, sub), { recursive: true, force: true })
    this.sockets = makeDir(join(path, 'sockets'), 0o700)
    this.bundles = makeDir(join(path, 'bundles'), 0o711)
    this.tmp = makeDir(join(path, 'tmp'), 0o711)
    this.proc = makeDir(join(path, 'proc'), 0o711)
  }

  socketOf (processId: string): string {
    return join(this.sockets, `${processId}.sock`)
  }

  tmpOf (processId: string): string {
    return join(this.tmp, processId)
  }

  procOf (processId: string): string {
    return join(this.proc, processId)
  }
}

/** Makes `path` a directory of ours, 0711, refusing one another user made first (it sits in a shared temp dir). */
function claimDir (path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o711 })
  const stat = lstatSync(path)
  const uid = process.getuid?.() ?? stat.uid
  if (!stat.isDirectory() || stat.uid !== uid) throw new Error(`${path} is not a directory owned by uid ${uid}: refusing to run instances from it`)
  chmodSync(path, 0o711)
}

export function makeDir (path: string, mode: number, owner?: { uid: number, gid: number }): string {
  mkdirSync(path, { recursive: true, mode })
  if (owner !== undefined) chownSync(path, owner.uid, owner.gid)
  chmodSync(path, mode)
  return path
}
