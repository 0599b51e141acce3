import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { StartupError } from '../errors/index.js'
import { secureHome } from './home-files.js'

/** Everything a platform keeps lives under $ROOST_HOME (default ~/.roost). */
export interface RoostHome {
  root: string
  configPath: string
  pidPath: string
  logPath: string
  /** The key that seals env values in the database; kept out of the data folder. */
  keyPath: string
}

/** What `up` records for the CLI, like a kubeconfig. */
export interface ClientConfig {
  api: string
  gateway: string
  token: string
}

export function resolveHome (env: NodeJS.ProcessEnv = process.env): RoostHome {
  const root = resolve(env.ROOST_HOME ?? join(homedir(), '.roost'))
  return { root, configPath: join(root, 'config'), pidPath: join(root, 'roost.pid'), logPath: join(root, 'roost.log'), keyPath: join(root, 'keys', 'data.key') }
}

export function readClientConfig (home: RoostHome): ClientConfig | undefined {
  if (!existsSync(home.configPath)) return undefined
  try {
    const parsed = JSON.parse(readFileSync(home.configPath, 'utf8')) as Partial<ClientConfig>
    if (typeof parsed.api === 'string' && typeof parsed.gateway === 'string' && typeof parsed.token === 'string') return parsed as ClientConfig
  } catch {}
  return undefined
}

export function writeClientConfig (home: RoostHome, config: ClientConfig): void {
  // The file holds the admin token: readable by its owner only, replaced atomically.
  const temp = `${home.configPath}.${process.pid}.tmp`
  writeFileSync(temp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  renameSync(temp, home.configPath)
}

/**
 * One platform per home: a second `up` on the same home would share the
 * database and fight over instances. A pid file whose process is gone (the
 * platform was killed with -9) is stale and taken over. Locking secures the
 * home first (secureHome): it is the first thing a platform does with it.
 */
export function lockHome (home: RoostHome): () => void {
  secureHome(home)
  if (existsSync(home.pidPath)) {
    const pid = Number(readFileSync(home.pidPath, 'utf8').trim())
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid)) {
      throw new StartupError(`another roost platform (pid ${pid}) runs on ${home.root}`, { hint: 'stop it first, or set ROOST_HOME to another folder to run a second platform' })
    }
  }
  writeFileSync(home.pidPath, `${process.pid}\n`, { mode: 0o600 })
  return () => {
    try {
      if (readFileSync(home.pidPath, 'utf8').trim() === String(process.pid)) rmSync(home.pidPath)
    } catch {}
  }
}

/** Whether a process runs; a zombie (killed, not yet reaped) does not. */
export function isProcessAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A platform killed with -9 stays a zombie until its parent reaps it; it holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}
