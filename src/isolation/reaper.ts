import { spawn, type ChildProcess } from 'node:child_process'

// An instance whose event loop spins never sees its control channel close, so
// it would outlive a platform killed with -9 (and so would what it started).
// PR_SET_PDEATHSIG cannot help: setuid at load clears it. A reaper can: a
// tiny shell process in a session of its own that waits for the platform to
// die, then kills every process in the platform's cgroups and removes them.
// A shell, not node: it costs a few hundred KiB and starts in a millisecond.
const SCRIPT = `
while kill -0 "$ROOST_PLATFORM_PID" 2>/dev/null; do sleep 1; done
for round in 1 2 3 4 5 6 7 8 9 10; do
  for base in $ROOST_CGROUP_BASES; do
    for procs in "$base"/*/cgroup.procs; do
      [ -f "$procs" ] || continue
      while read -r pid; do kill -9 "$pid" 2>/dev/null; done < "$procs"
    done
  done
  sleep 0.1
done
for base in $ROOST_CGROUP_BASES; do
  for group in "$base"/*/; do rmdir "$group" 2>/dev/null; done
  rmdir "$base" 2>/dev/null
done
`

/** Starts the reaper of this platform's cgroups; `stop()` ends it when the platform stops by itself. */
export function startReaper (platformPid: number, bases: string[]): { stop (): void } {
  let child: ChildProcess | null = null
  try {
    child = spawn('/bin/sh', ['-c', SCRIPT], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ROOST_PLATFORM_PID: String(platformPid), ROOST_CGROUP_BASES: bases.join(' ') }
    })
    child.on('error', () => { child = null })
    child.unref()
  } catch {
    child = null
  }
  return {
    stop () {
      try { child?.kill('SIGKILL') } catch {}
      child = null
    }
  }
}
