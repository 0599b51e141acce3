import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openCgroups } from '../../src/isolation/index.js'
import { until } from '../helpers/wait.js'
import { alive } from './fixtures.js'

const SCRIPT = fileURLToPath(new URL('./exiting-platform.js', import.meta.url))

test('a platform that exits without stopping its instances takes them, and what they started, with it', async () => {
  const { pid, output } = await new Promise<{ pid: number, output: string }>((resolve, reject) => {
    const child = execFile(process.execPath, [SCRIPT], { timeout: 30_000 }, (error, stdout) => {
      if (error !== null) reject(new Error(`${error.message}\n${stdout}`))
      else resolve({ pid: child.pid as number, output: stdout })
    })
  })
  try {
    const instance = Number(/^instance (\d+)$/m.exec(output)?.[1])
    const grandchild = Number(/^child (\d+)$/m.exec(output)?.[1])
    assert.ok(instance > 0 && grandchild > 0, output)
    await until(() => !alive(instance) && !alive(grandchild), 'the instance and its child ended', 5000)
  } finally {
    // What the exited platform could not remove (its empty cgroups, its run dir) goes now.
    const left = openCgroups(`p${pid}-1`)
    await left?.cleanStale()
    left?.close()
    rmSync(join(tmpdir(), `roost-p${pid}-1`), { recursive: true, force: true })
  }
})

test('a platform killed with -9 takes even an instance whose event loop spins, and what it started, with it', async () => {
  const child = spawn(process.execPath, [SCRIPT, 'spin'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const pid = child.pid as number
  try {
    await until(() => /^child \d+$/m.test(output), 'the instance started its child', 20_000)
    const instance = Number(/^instance (\d+)$/m.exec(output)?.[1])
    const grandchild = Number(/^child (\d+)$/m.exec(output)?.[1])
    // Let the instance's loop start spinning: it can no longer see its control channel close.
    await new Promise((resolve) => setTimeout(resolve, 800))
    child.kill('SIGKILL')
    await until(() => !alive(instance) && !alive(grandchild), 'the spinning instance and its child ended', 10_000)
  } finally {
    child.kill('SIGKILL')
    const left = openCgroups(`p${pid}-1`)
    await left?.cleanStale()
    left?.close()
    rmSync(join(tmpdir(), `roost-p${pid}-1`), { recursive: true, force: true })
  }
})
