import { Worker } from 'node:worker_threads'
import { EventEmitter, once } from 'node:events'
import { StartupError } from '../errors/index.js'
import type { GatewayCommand, GatewayOptions, GatewayReport, RoutingTable } from './routing-table.js'

export { Gateway } from './gateway.js'
export type { GatewayOptions, RoutingTable, RoutedFunction, RoutedInstance, RoutedVersion, TrafficTarget } from './routing-table.js'

export interface GatewayEvents {
  demand: [versionKey: string]
  suspect: [instanceId: string]
  exit: [code: number]
}

/** The gateway running in its worker thread, seen from the control plane. */
export class GatewayHandle extends EventEmitter<GatewayEvents> {
  private constructor (private readonly worker: Worker, readonly host: string, readonly port: number) {
    super()
    worker.on('message', (message: GatewayReport) => {
      if (message.t === 'demand') this.emit('demand', message.versionKey)
      else if (message.t === 'suspect') this.emit('suspect', message.instanceId)
    })
    worker.on('exit', (code) => this.emit('exit', code))
  }

  static async start (options: GatewayOptions): Promise<GatewayHandle> {
    const worker = new Worker(new URL('./gateway-worker.js', import.meta.url), { workerData: options })
    const [first] = await once(worker, 'message') as [GatewayReport]
    if (first.t === 'listen-failed') {
      await worker.terminate()
      const hint = first.code === 'EADDRINUSE' ? `another program listens on ${options.host}:${options.port}; pass --port to use another` : 'check the --port and --host flags'
      throw new StartupError(`the gateway cannot listen on ${options.host}:${options.port}: ${first.message}`, { hint })
    }
    if (first.t !== 'listening') throw new StartupError(`the gateway sent ${first.t} before listening`)
    return new GatewayHandle(worker, first.host, first.port)
  }

  get url (): string {
    return `http://${this.host}:${this.port}`
  }

  pushTable (table: RoutingTable): void {
    this.send({ t: 'table', table })
  }

  startFailed (versionKey: string, reason: string): void {
    this.send({ t: 'start-failed', versionKey, reason })
  }

  async close (): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const onMessage = (message: GatewayReport): void => { if (message.t === 'closed') resolve() }
      this.worker.on('message', onMessage)
      this.worker.once('exit', () => resolve())
    })
    this.send({ t: 'close' })
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
    await this.worker.terminate()
  }

  private send (command: GatewayCommand): void {
    this.worker.postMessage(command)
  }
}
