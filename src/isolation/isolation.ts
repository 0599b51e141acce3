import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openCgroups, type Cgroups } from './cgroups.js'
import { FIRST_NAMESPACE_UID } from './identities.js'
import { startReaper } from './reaper.js'
import { platformKey, RunDir, runDirFor } from './run-dir.js'

// Which isolation instances get on this machine, decided once at start from
// what is really there: uid switching when the platform is root, Node's
// permission model otherwise, cgroups where writable, RSS polling where not.

export interface IsolationOptions {
  /** The platform's home: names its cgroups and run dir, so a restart finds what a crash left. */
  home?: string
  /** Where sockets, bundles and temp dirs go (default `runDirFor(home)`). */
  runDir?: string
  /** Run each namespace as its own uid (default: when the platform is root). */
  switchUids?: boolean
  /** Bound processes with cgroups (default: when they are writable here). */
  cgroups?: boolean
}

export interface IsolationReport {
  /** Short, for a status line: `uid+cgroup-v1`, `permission-model+rss`. */
  mode: string
  details: string[]
}

let unnamed = 0

export class Isolation {
  private readonly reaper: { stop (): void } | null
  readonly runDir: RunDir
  readonly cgroups: Cgroups | null
  readonly switchUids: boolean
  /** Groups and processes an earlier run of this platform left behind, being removed. */
  readonly staleCleaned: Promise<void>

  constructor (options: IsolationOptions = {}) {
    // Without a home the names are this process's own, so concurrent platforms (tests) never clean each other's.
    const key = options.home !== undefined ? platformKey(options.home) : `p${process.pid}-${++unnamed}`
    this.runDir = new RunDir(options.runDir ?? (options.home !== undefined ? runDirFor(options.home) : join(tmpdir(), `roost-${key}`)))
    this.switchUids = options.switchUids ?? process.getuid?.() === 0
    this.cgroups = options.cgroups === false ? null : openCgroups(key)
    this.staleCleaned = this.cgroups?.cleanStale() ?? Promise.resolve()
    this.reaper = this.cgroups === null ? null : startReaper(process.pid, this.cgroups.bases)
  }

  report (): IsolationReport {
    const parts = [this.switchUids ? 'uid' : 'permission-model', this.cgroups === null ? 'rss' : `cgroup-v${this.cgroups.version}`]
    const details: string[] = []
    if (this.switchUids) {
      details.push(`a uid and gid per namespace (${FIRST_NAMESPACE_UID} and up), own session and process group`)
    } else {
      details.push('Node permission model: reads only the runtime and the bundle, no child processes, no workers')
      details.push('instances run as the platform\'s own uid: they can still signal the platform and each other')
    }
    details.push(this.cgroups === null
      ? 'memory bounded by polling the resident size of the main process only; no cap on processes; CPU not weighted'
      : `memory, process count and CPU weight bounded by cgroup v${this.cgroups.version}; every process of an instance ends with it`)
    details.push('instances reachable only through Unix sockets in a directory only the platform can open')
    return { mode: parts.join('+'), details }
  }

  /** Once every instance has ended: the run dir (rebuilt at every start anyway) and the empty group of instances go. */
  close (): void {
    this.reaper?.stop()
    rmSync(this.runDir.path, { recursive: true, force: true })
    this.cgroups?.close()
  }
}
