// A small peer for the runtime host: it spawns the host as the instance
// manager does (fd 3 a pipe, a data socket path in a 0700 temp dir) and
// speaks both channels of docs/internal-protocol.md over real sockets.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FrameDecoder, FrameType, FrameWriter, MAX_CONTROL_PAYLOAD_BYTES, MAX_DATA_PAYLOAD_BYTES, readResponseHead, RequestFlags, type RequestHead, type ResponseHead } from '../../src/wire/index.js'
import { RUNTIME_HOST_ENTRY, type ChildMessage, type LoadMessage, type LogsMessage, type ParentMessage, type RuntimeLogLine } from '../../src/runtime/index.js'
import { until } from '../helpers/wait.js'

export interface Frame { type: number, stream: number, payload: Buffer }

export class HostPeer {
  readonly dir: string
  readonly socketPath: string
  readonly child: ChildProcess
  readonly messages: ChildMessage[] = []
  readonly stderr: string[] = []
  exit: { code: number | null, signal: string | null } | null = null
  private readonly control: FrameWriter

  constructor (options: { warm?: boolean } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'roost-host-'))
    chmodSync(this.dir, 0o700)
    this.socketPath = join(this.dir, 'data.sock')
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ROOST_RUNTIME_SOCKET: this.socketPath }
    if (options.warm === true) env.ROOST_RUNTIME_WARM_UP = '1'
    this.child = spawn(process.execPath, [RUNTIME_HOST_ENTRY], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env })
    const pipe = this.child.stdio[3] as Socket
    this.control = new FrameWriter(pipe)
    const decoder = new FrameDecoder((type, _stream, payload) => {
      if (type === FrameType.Control) this.messages.push(JSON.parse(payload.toString('utf8')) as ChildMessage)
    }, MAX_CONTROL_PAYLOAD_BYTES)
    pipe.on('data', (chunk: Buffer) => decoder.push(chunk))
    pipe.on('error', () => {})
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => this.stderr.push(text))
    this.child.stdout?.resume()
    this.child.on('exit', (code, signal) => { this.exit = { code, signal } })
  }

  send (message: ParentMessage): void {
    this.control.text(FrameType.Control, 0, JSON.stringify(message))
  }

  /** Closes our end of fd 3, as a dying parent would. */
  closeControl (): void {
    (this.child.stdio[3] as Socket).destroy()
  }

  async message<T extends ChildMessage['t']> (t: T, timeoutMs = 10_000): Promise<Extract<ChildMessage, { t: T }>> {
    await until(() => this.messages.some((m) => m.t === t) || this.exit !== null, `a ${t} message`, timeoutMs)
    const found = this.messages.find((m) => m.t === t)
    if (found === undefined) throw new Error(`the host exited (${JSON.stringify(this.exit)}) before ${t}: ${this.stderr.join('')}`)
    return found as Extract<ChildMessage, { t: T }>
  }

  async secret (): Promise<string> {
    return (await this.message('listening')).secret
  }

  async load (code: string, extra: Partial<LoadMessage> = {}): Promise<ChildMessage> {
    const bundlePath = join(this.dir, `bundle-${Math.random().toString(36).slice(2)}.mjs`)
    writeFileSync(bundlePath, code)
    chmodSync(bundlePath, 0o644)
    chmodSync(this.dir, 0o755)
    await this.secret()
    this.send({ t: 'load', instanceId: 'test-1', bundlePath, fn: { namespace: 'default', name: 'test', version: 1 }, env: { GREETING: 'hi' }, timeoutMs: 5000, ...extra })
    await until(() => this.messages.some((m) => m.t === 'ready' || m.t === 'load-failed') || this.exit !== null, 'ready or load-failed')
    const outcome = this.messages.find((m) => m.t === 'ready' || m.t === 'load-failed')
    if (outcome === undefined) throw new Error(`the host exited before loading: ${this.stderr.join('')}`)
    return outcome
  }

  async connect (secret?: string): Promise<DataPeer> {
    const peer = await DataPeer.open(this.socketPath)
    if (secret !== undefined) peer.hello(secret)
    return peer
  }

  async exited (timeoutMs = 10_000): Promise<{ code: number | null, signal: string | null }> {
    await until(() => this.exit !== null, 'the host to exit', timeoutMs)
    return this.exit as { code: number | null, signal: string | null }
  }

  /** Leaves nothing behind: the process killed, the temp dir removed. */
  async dispose (): Promise<void> {
    if (this.exit === null) {
      this.child.kill('SIGKILL')
      await this.exited()
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export class DataPeer {
  readonly frames: Frame[] = []
  closed = false
  readonly writer: FrameWriter

  private constructor (readonly socket: Socket) {
    this.writer = new FrameWriter(socket)
    const decoder = new FrameDecoder((type, stream, payload) => this.frames.push({ type, stream, payload: Buffer.from(payload) }), MAX_DATA_PAYLOAD_BYTES)
    socket.on('data', (chunk: Buffer) => decoder.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => { this.closed = true })
  }

  static async open (path: string): Promise<DataPeer> {
    const socket = connect(path)
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    return new DataPeer(socket)
  }

  hello (secret: string): void {
    this.writer.text(FrameType.Hello, 0, secret)
  }

  /** `event`: a delivery as the gateway forwards one, with `x-roost-event` and the Event flag. */
  request (stream: number, head: Partial<RequestHead> & { body?: Buffer | string, endBody?: boolean, event?: string }): void {
    const hasBody = head.body !== undefined || head.endBody === false
    const headers = head.headers ?? ['host', 'fn.test']
    this.writer.request(stream, {
      flags: (head.flags ?? 0) | (hasBody ? RequestFlags.HasBody : 0) | (head.event !== undefined ? RequestFlags.Event : 0),
      deadline: head.deadline ?? Date.now() + 5000,
      method: head.method ?? (head.event !== undefined ? 'POST' : 'GET'),
      url: head.url ?? '/',
      requestId: head.requestId ?? `req-${stream}`,
      headers: head.event !== undefined ? [...headers, 'x-roost-event', head.event, 'content-type', 'application/json'] : headers
    })
    if (head.body !== undefined) this.writer.body(FrameType.RequestBody, stream, Buffer.from(head.body))
    if (hasBody && head.endBody !== false) this.writer.frame(FrameType.RequestEnd, stream)
  }

  framesOf (stream: number): Frame[] {
    return this.frames.filter((frame) => frame.stream === stream)
  }

  async until (check: (frames: Frame[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await until(() => check(this.frames) || this.closed, what, timeoutMs)
    if (!check(this.frames)) throw new Error(`the connection closed before ${what}`)
  }

  /** Waits for a complete answer on a stream: its head and body, or how it ended instead. */
  async answer (stream: number, timeoutMs = 10_000): Promise<{ head: ResponseHead | null, body: string, end: 'end' | 'abort' | 'refused' }> {
    const ends = new Set<number>([FrameType.ResponseEnd, FrameType.Abort, FrameType.Refused])
    await this.until((frames) => frames.some((f) => f.stream === stream && ends.has(f.type)), `the end of stream ${stream}`, timeoutMs)
    const frames = this.framesOf(stream)
    const headFrame = frames.find((f) => f.type === FrameType.Response)
    const body = Buffer.concat(frames.filter((f) => f.type === FrameType.ResponseBody).map((f) => f.payload)).toString('utf8')
    const last = frames.find((f) => ends.has(f.type)) as Frame
    const end = last.type === FrameType.ResponseEnd ? 'end' : last.type === FrameType.Abort ? 'abort' : 'refused'
    return { head: headFrame === undefined ? null : readResponseHead(headFrame.payload), body, end }
  }

  close (): void {
    this.socket.end()
  }
}

export function header (head: ResponseHead | null, name: string): string | undefined {
  if (head === null) return undefined
  for (let i = 0; i < head.headers.length; i += 2) if (head.headers[i].toLowerCase() === name) return head.headers[i + 1]
  return undefined
}

/** A host with `code` loaded (and ready), disposed of after the test. */
export async function loadedHost (t: { after: (fn: () => Promise<void>) => void }, code: string, options: { warm?: boolean, load?: Partial<LoadMessage> } = {}): Promise<HostPeer> {
  const host = new HostPeer(options)
  t.after(() => host.dispose())
  const outcome = await host.load(code, options.load)
  assert.equal(outcome.t, 'ready', JSON.stringify(outcome))
  return host
}

export function logLines (host: HostPeer): RuntimeLogLine[] {
  return host.messages.filter((m): m is LogsMessage => m.t === 'logs').flatMap((m) => m.lines)
}
