// nginx as the baseline a user would put in front of an instance instead of
// the gateway: a reverse proxy with kept-alive upstream connections. Started
// in the foreground from a config in a temporary folder, stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { childrenOf } from './cpu.js'
import { findExecutable } from './load.js'

export interface NginxBinary {
  path: string
  version: string
}

/** nginx from $NGINX (when set, only there), else PATH or the usual sbin folders; null when not installed. */
export function findNginx (): NginxBinary | null {
  const given = process.env.NGINX
  const path = given !== undefined ? (isExecutable(given) ? given : null) : findExecutable('nginx', ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'])
  if (path === null) return null
  const out = spawnSync(path, ['-v'], { encoding: 'utf8' })
  const version = /nginx\/(\S+)/.exec(`${out.stderr}${out.stdout}`)?.[1] ?? 'unknown version'
  return { path, version }
}

function isExecutable (path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export interface NginxOptions {
  upstreamHost: string
  upstreamPort: number
  /** worker_processes: 1 (one thread, like the gateway) or 'auto' (one per core). */
  workers: number | 'auto'
}

export interface Nginx {
  url: string
  pid: number
  /** The worker processes' pids, once started. */
  workerPids: number[]
  config: string
  stop (): Promise<void>
}

// Masters still running, stopped if this process leaves without stop().
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) {
    // SIGTERM: the master takes its workers down with it (SIGKILL would orphan them).
    try { child.kill('SIGTERM') } catch {}
  }
})

export function nginxConfig (dir: string, port: number, options: NginxOptions): string {
  return `# Written by bench/nginx.ts for one benchmark run.
daemon off;
master_process on;
# 1: one worker, as the gateway is one thread; auto: one worker per core.
worker_processes ${options.workers};
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;

events {
  worker_connections 1024;
}

http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  # The gateway never closes a kept-alive connection after N requests; nor does nginx here.
  keepalive_requests 1000000;

  upstream roost_instance {
    server ${options.upstreamHost}:${options.upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }

  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://roost_instance;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export async function startNginx (binary: NginxBinary, options: NginxOptions): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'roost-bench-nginx-'))
  const port = await freePort()
  const config = nginxConfig(dir, port, options)
  const configPath = join(dir, 'nginx.conf')
  writeFileSync(configPath, config)
  const child = spawn(binary.path, ['-c', configPath, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] })
  running.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true
    running.delete(child)
    resolve()
  }))
  child.once('error', () => {})
  const url = `http://127.0.0.1:${port}/`

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGQUIT')
      const timer = setTimeout(() => { if (!exited) child.kill('SIGTERM') }, 3000)
      const killer = setTimeout(() => { if (!exited) child.kill('SIGKILL') }, 6000)
      await exit
      clearTimeout(timer)
      clearTimeout(killer)
    }
    rmSync(dir, { recursive: true, force: true })
  }

  const deadline = Date.now() + 5000
  for (;;) {
    if (exited) {
      let log = ''
      try { log = readFileSync(join(dir, 'error.log'), 'utf8') } catch {}
      await stop()
      throw new Error(`nginx exited at start:\n${stderr}${log}`)
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`nginx did not answer 200 on ${url} within 5 s:\n${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { url, pid: child.pid as number, workerPids: childrenOf(child.pid as number), config, stop }
}
