import { UsageError } from '../errors/index.js'
import { readClientConfig, resolveHome, type ClientConfig } from '../home/index.js'
import { ApiClient } from './client.js'

/**
 * The CLI talks to the platform whose $ROOST_HOME/config it finds, as kubectl
 * follows its kubeconfig; ROOST_API and ROOST_TOKEN override single fields.
 */
export function loadClientConfig (env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const home = resolveHome(env)
  const config = readClientConfig(home)
  const api = env.ROOST_API ?? config?.api
  const token = env.ROOST_TOKEN ?? config?.token
  const gateway = env.ROOST_GATEWAY ?? config?.gateway
  if (api === undefined || token === undefined || gateway === undefined) {
    throw new UsageError(`no platform is configured in ${home.configPath}`, { hint: 'start one with `roost up` (it writes that file), or set ROOST_HOME to the home of a running platform' })
  }
  return { api, token, gateway }
}

export function connect (): ApiClient {
  return new ApiClient(loadClientConfig())
}
