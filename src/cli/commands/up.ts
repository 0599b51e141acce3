import { fileURLToPath } from 'node:url'
import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { ApiClient } from '../client.js'
import { brokerAddress } from '../../api/index.js'
import { UsageError } from '../../errors/index.js'
import { Platform } from '../../platform/index.js'
import { resolveHome } from '../../home/index.js'
import { applyFiles } from './apply.js'
import { cliCommand } from '../invocation.js'

const EXAMPLE = fileURLToPath(new URL('../../../../examples/hello/roost.yaml', import.meta.url))

export const command: Command = {
  summary: 'Start the platform in the foreground: the REST API and the gateway.',
  usage: `Usage: roost up [--port 8080] [--api-port 7070] [--host 127.0.0.1] [--data DIR] [--warm-pool 2] [--queue-limit 1000] [--allow-private-callbacks] [--allow-broker URL]... [--example]

State lives under $ROOST_HOME (default ~/.roost): the SQLite database and
bundles in data/ (or --data DIR), the platform log in roost.log, and config,
where the API address and admin token are recorded for the CLI.
Ctrl-C (SIGINT) or SIGTERM stops it with its instances.

Flags:
      --port       gateway port (default 8080; 0 picks a free one)
      --api-port   REST API port (default 7070; 0 picks a free one)
      --host       address both listen on (default 127.0.0.1)
      --data       data folder (default $ROOST_HOME/data)
      --warm-pool  idle runtime processes kept started per memory size, for
                   cold starts in milliseconds (default 2; 0 turns the pool off)
      --queue-limit requests one function version may hold while no instance
                   can take them (default 1000); past it callers get 503
      --allow-private-callbacks
                   let async calls' X-Callback-Url reach loopback, private and
                   link-local addresses (refused by default: any caller could
                   make the platform POST into its own network)
      --allow-broker
                   a broker (nats://, redis://, amqp:// URL; its scheme, host and
                   port count) that functions applied with a namespace token may
                   name in their queue triggers; repeat for more. The admin
                   token may name any; a namespace token none but these, since
                   the platform dials them from its own network
      --example    deploy the bundled hello example once up`,

  async run (argv) {
    const { values } = parseCommandArgs('up', argv, {
      port: { type: 'string' },
      'api-port': { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      'warm-pool': { type: 'string' },
      'queue-limit': { type: 'string' },
      'allow-private-callbacks': { type: 'boolean' },
      'allow-broker': { type: 'string', multiple: true },
      example: { type: 'boolean' }
    })
    const home = resolveHome()
    const platform = await Platform.start({
      home,
      dataDir: values.data,
      host: values.host,
      gatewayPort: port(values.port, '--port'),
      apiPort: port(values['api-port'], '--api-port'),
      warmPoolSize: count(values['warm-pool'], '--warm-pool', 0, 64),
      queueLimit: count(values['queue-limit'], '--queue-limit', 1, 1_000_000),
      allowPrivateCallbacks: values['allow-private-callbacks'] === true,
      allowedBrokers: brokerUrls(values['allow-broker']),
      onFatal: (err) => {
        process.stderr.write(`error: ${err.message}\nhint: ${(err as { hint?: string }).hint ?? `the platform log ${home.logPath} has details`}\n`)
        process.exit(1)
      }
    })
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      process.stdout.write(`\n${signal}: stopping roost…\n`)
      platform.stop().then(() => {
        process.stdout.write('roost stopped\n')
        process.exit(0)
      }, (err: unknown) => {
        process.stderr.write(`error: while stopping: ${(err as Error).message}\nhint: instances stop by themselves once the platform is gone; ${home.logPath} has details\n`)
        process.exit(1)
      })
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))

    process.stdout.write(`roost is up (home ${home.root})\n  API:     ${platform.config.api}\n  gateway: ${platform.config.gateway}\n`)
    const isolation = platform.isolation()
    process.stdout.write(`  isolation: ${isolation.mode}\n${isolation.details.map((line) => `    - ${line}\n`).join('')}  open files: ${platform.fileLimit.how}\n`)
    if (values.example === true) {
      await applyFiles(new ApiClient(platform.config), [EXAMPLE], (line) => process.stdout.write(`${line}\n`))
      // Quoted: `?` is a glob in zsh, which refuses an unquoted URL that matches no file.
      process.stdout.write(`try:\n  curl '${platform.config.gateway}/fn/hello?name=roost'\n  ${cliCommand()} invoke hello --data world\n`)
    }
    process.stdout.write('press Ctrl-C to stop\n')
    // The servers keep the process alive until a signal stops it.
    return await new Promise<number>(() => {})
  }
}

function port (value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0 || number > 65535) throw new UsageError(`${flag} ${value} is not a port`, { hint: `${flag} takes a number from 0 to 65535` })
  return number
}

function count (value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < min || number > max) throw new UsageError(`${flag} ${value} is out of range`, { hint: `${flag} takes a whole number from ${min} to ${max}` })
  return number
}

function brokerUrls (values: string[] | undefined): string[] {
  for (const value of values ?? []) {
    if (brokerAddress(value) === undefined) throw new UsageError(`--allow-broker ${value} is not a URL`, { hint: '--allow-broker takes a broker URL such as redis://10.0.0.5:6379, nats://nats.internal:4222 or amqp://rabbit:5672' })
  }
  return values ?? []
}
