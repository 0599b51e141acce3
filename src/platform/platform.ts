import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { createApiServer, type LiveView } from '../api/index.js'
import { BundleFiles, FunctionController } from '../controllers/index.js'
import { StartupError } from '../errors/index.js'
import { GatewayHandle } from '../gateway/index.js'
import { InstanceManager, LocalProcessDriver } from '../instances/index.js'
import { Store } from '../store/index.js'
import { lockHome, readClientConfig, writeClientConfig, type ClientConfig, type RoostHome } from '../home/index.js'
import { LogWriter } from './log-writer.js'

export interface PlatformOptions {
  home: RoostHome
  /** Where the database and bundles live; default `$ROOST_HOME/data`. */
  dataDir?: string
  host?: string
  gatewayPort?: number
  apiPort?: number
  /** Largest request body the gateway passes to a function, in bytes. */
  bodyLimit?: number
  /** Requests one version may hold waiting for an instance. */
  queueLimit?: number
  logLevel?: string
  /** Called when the platform cannot go on (its gateway thread died); it has stopped by then. */
  onFatal?: (err: Error) => void
}

const DEFAULTS = { host: '127.0.0.1', gatewayPort: 8080, apiPort: 7070, bodyLimit: 6 * 1024 * 1024, queueLimit: 1000 }
const LOG_LINES_PER_FUNCTION = 10_000
const EVENTS_PER_FUNCTION = 200
const HOUSEKEEPING_INTERVAL_MS = 60_000
const ADMIN_TOKEN_SETTING = 'adminTokenId'

/**
 * One Roost on one machine: the control plane (store, API, controllers,
 * instance manager) on this thread, the gateway on a worker thread of its own.
 */
export class Platform {
  private stopping: Promise<void> | null = null
  private readonly housekeeping: NodeJS.Timeout

  private constructor (
    readonly config: ClientConfig,
    private readonly store: Store,
    private readonly gateway: GatewayHandle,
    private readonly instances: InstanceManager,
    private readonly controller: FunctionController,
    private readonly logs: LogWriter,
    private readonly api: Awaited<ReturnType<typeof createApiServer>>,
    private readonly unlock: () => void,
    readonly logger: Logger
  ) {
    this.housekeeping = setInterval(() => store.pruneEvents(EVENTS_PER_FUNCTION), HOUSEKEEPING_INTERVAL_MS)
    this.housekeeping.unref()
  }

  static async start (options: PlatformOptions): Promise<Platform> {
    const home = options.home
    const host = options.host ?? DEFAULTS.host
    const unlock = lockHome(home)
    const logger = pino({ level: options.logLevel ?? 'info', base: undefined }, pino.destination({ dest: home.logPath, mkdir: true, sync: false }))
    const cleanup: Array<() => Promise<void> | void> = [unlock]
    try {
      const store = Store.open(options.dataDir ?? join(home.root, 'data'))
      cleanup.unshift(() => store.close())
      const logs = new LogWriter(store, LOG_LINES_PER_FUNCTION)
      cleanup.unshift(() => logs.close())

      const gateway = await GatewayHandle.start({ host, port: options.gatewayPort ?? DEFAULTS.gatewayPort, bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit })
      cleanup.unshift(() => gateway.close())

      let controller: FunctionController | undefined
      const instances = new InstanceManager(new LocalProcessDriver(), {
        onChange: () => controller?.instancesChanged(),
        onLogs: (lines) => logs.write(lines),
        onEvent: (event) => {
          store.recordEvent({ namespace: event.namespace, kind: 'Function', name: event.function, type: event.type, reason: event.reason, message: event.message })
          logger.info({ event }, event.message)
        },
        onStartFailed: (versionKey, reason) => gateway.startFailed(versionKey, reason)
      })
      cleanup.unshift(() => instances.stop())
      controller = new FunctionController(store, instances, gateway, new BundleFiles(store.blobs, join(store.dir, 'bundles')), { queueLimit: options.queueLimit ?? DEFAULTS.queueLimit })
      gateway.on('demand', (versionKey) => instances.demand(versionKey))
      gateway.on('suspect', (instanceId) => instances.suspect(instanceId))
      controller.start()
      cleanup.unshift(() => controller?.stop())

      const live: LiveView = { instances: () => instances.list(), onLogs: (listener) => logs.subscribe(listener) }
      const api = await createApiServer({ store, live })
      const apiPort = options.apiPort ?? DEFAULTS.apiPort
      try {
        await api.listen({ host, port: apiPort })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        throw new StartupError(`the API cannot listen on ${host}:${apiPort}: ${(err as Error).message}`, {
          hint: code === 'EADDRINUSE' ? `another program listens on ${host}:${apiPort}; pass --api-port to use another` : 'check the --api-port flag'
        })
      }
      const address = api.server.address()
      const boundApiPort = typeof address === 'object' && address !== null ? address.port : apiPort
      const config: ClientConfig = { api: `http://${host}:${boundApiPort}`, gateway: gateway.url, token: adminToken(store, home) }
      writeClientConfig(home, config)
      logger.info({ api: config.api, gateway: config.gateway }, 'roost is up')
      const platform = new Platform(config, store, gateway, instances, controller, logs, api, unlock, logger)
      // Without its data plane the platform would take applies it can never serve: stop it all.
      gateway.on('exit', (code) => {
        if (platform.stopping !== null) return
        const err = new StartupError(`the gateway thread exited (code ${code})`, { hint: `see ${home.logPath}; start roost up again` })
        logger.fatal({ code }, err.message)
        void platform.stop().then(() => options.onFatal?.(err))
      })
      return platform
    } catch (err) {
      for (const step of cleanup) await step()
      throw err
    }
  }

  /** Stops taking requests, stops every instance, then closes the store. Safe to call twice. */
  stop (): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown (): Promise<void> {
    this.logger.info('stopping')
    clearInterval(this.housekeeping)
    await this.api.close()
    this.controller.stop()
    await this.gateway.close()
    await this.instances.stop()
    this.logs.close()
    this.store.close()
    this.unlock()
    this.logger.info('stopped')
    this.logger.flush()
  }
}

/** Reuses the admin token of the config file when this store knows it; else mints one. */
function adminToken (store: Store, home: RoostHome): string {
  const existing = readClientConfig(home)
  if (existing !== undefined) {
    const found = store.lookupToken(existing.token)
    if (found !== undefined && found.namespace === '*') return existing.token
  }
  const created = store.createToken({ namespace: '*', description: 'admin token written by roost up' })
  store.setSetting(ADMIN_TOKEN_SETTING, created.id)
  return created.token
}
