import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs'

/**
 * $ROOST_HOME holds the admin token, the database and the data key: it is the
 * platform user's alone. Created 0700; a home an older Roost made (0755) is
 * narrowed at start, and so are the files in it that `up` writes (the log,
 * the config, the pid file), created 0600 before anything writes to them.
 */
export function secureHome (home: { root: string, logPath: string, configPath: string, pidPath: string }): void {
  mkdirSync(home.root, { recursive: true, mode: 0o700 })
  restrict(home.root, 0o700)
  // pino appends to the log; created here first, it is 0600 from its first line
  closeSync(openSync(home.logPath, 'a', 0o600))
  for (const file of [home.logPath, home.configPath, home.pidPath]) restrictIfPresent(file, 0o600)
}

function restrictIfPresent (path: string, mode: number): void {
  try {
    restrict(path, mode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

function restrict (path: string, mode: number): void {
  if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode)
}
