// A platform that exits without stopping its instances (as a crash in its
// own code would, or process.exit): run by platform-exit.test.ts. With the
// argument `spin`, its instance then blocks its event loop for good and the
// platform waits to be killed with -9 (nothing of it runs then).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalProcessDriver } from '../../src/instances/index.js'

const spin = process.argv[2] === 'spin'
const dir = mkdtempSync(join(tmpdir(), 'roost-exiting-'))
process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
chmodSync(dir, 0o755)
const bundlePath = join(dir, 'bundle.mjs')
writeFileSync(bundlePath, `
  import { spawn } from 'node:child_process'
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' })
  child.unref()
  setTimeout(() => console.log('child ' + child.pid), 100)
  ${spin ? 'setTimeout(() => { for (;;) {} }, 400)' : ''}
  export default () => new Response('ok')`, { mode: 0o644 })

const driver = new LocalProcessDriver()
const instance = driver.launch({ name: 'exiting', memoryMiB: 128 }, {
  onListening: () => instance.load({ t: 'load', instanceId: 'exiting-1', bundlePath, fn: { namespace: 'default', name: 'exiting', version: 1 }, env: {}, timeoutMs: 1000, ...(driver.isolation().switchesUids ? { uid: 200_998, gid: 200_998 } : {}) }, 128),
  onReady: () => {},
  onLoadFailed: (reason) => { console.log('load failed ' + reason); process.exit(1) },
  onLogs: (lines) => {
    const line = lines.find((l) => l.message.startsWith('child '))
    if (line === undefined) return
    console.log(`instance ${String(instance.pid)}`)
    console.log(line.message)
    if (spin) setInterval(() => {}, 1000)
    else process.exit(0)
  },
  onPong: () => {},
  onDrained: () => {},
  onProtocolViolation: () => {},
  onExit: (exit) => { console.log('exited ' + exit.reason); process.exit(1) }
})
