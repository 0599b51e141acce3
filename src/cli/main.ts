import { ApiError, isRoostError, ValidationError, type RoostError } from '../errors/index.js'

import type { Command } from './command.js'

export type { Command }

// Commands load on demand: `roost get` must not pay for what `roost up` imports.
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  up: async () => await import('./commands/up.js'),
  init: async () => await import('./commands/init.js'),
  apply: async () => await import('./commands/apply.js'),
  diff: async () => await import('./commands/diff.js'),
  create: async () => await import('./commands/create.js'),
  get: async () => await import('./commands/get.js'),
  describe: async () => await import('./commands/describe.js'),
  invoke: async () => await import('./commands/invoke.js'),
  invocations: async () => await import('./commands/invocations.js'),
  dev: async () => await import('./commands/dev.js'),
  logs: async () => await import('./commands/logs.js'),
  rollback: async () => await import('./commands/rollback.js'),
  delete: async () => await import('./commands/delete.js'),
  token: async () => await import('./commands/token.js'),
  secret: async () => await import('./commands/secret.js'),
  key: async () => await import('./commands/key.js'),
  reserve: async () => await import('./commands/reserve.js'),
  publish: async () => await import('./commands/publish.js'),
  dlq: async () => await import('./commands/dlq.js')
}

const SUMMARIES: Record<string, string> = {
  up: 'start the platform (API and gateway) in the foreground',
  init: 'scaffold a function folder that deploys as is',
  apply: 'build and deploy functions and governance rules from YAML manifests',
  diff: 'show what apply would change, as a unified diff',
  create: 'create a namespace',
  get: 'list functions, versions, instances, events, namespaces, secrets, rules, queues or triggers',
  describe: 'show a function (spec, governance, versions, instances, events) or a rule',
  invoke: 'call a function through the gateway',
  invocations: 'show, list and cancel async invocations',
  dev: 'run a function locally, reloading it on every save',
  logs: 'show what a function wrote',
  rollback: 'move all traffic to another version at once',
  delete: 'delete functions, rules, or a namespace',
  token: 'create, list and revoke API tokens',
  secret: 'create, list and delete secrets',
  key: 'create, list and revoke API keys of functions',
  reserve: 'reserve a path prefix of the gateway for one namespace',
  publish: 'publish a message to a queue',
  dlq: 'list, replay and purge the dead messages of a queue'
}

export function usage (): string {
  const width = Math.max(...Object.keys(SUMMARIES).map((name) => name.length))
  return [
    'roost: a serverless platform for TypeScript and JavaScript functions',
    '',
    'Usage: roost <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(SUMMARIES).map(([name, summary]) => `  ${name.padEnd(width + 2)}${summary}`),
    '',
    'Run `roost <command> --help` for a command\'s flags.',
    'The CLI talks to the platform in $ROOST_HOME (default ~/.roost).',
    ''
  ].join('\n')
}

export async function main (argv: string[]): Promise<void> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage())
    return
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write('roost 0.1.0\n')
    return
  }
  const load = COMMANDS[name]
  if (load === undefined) {
    printError(`unknown command "${name}"`, 'run `roost --help` for the list of commands')
    process.exitCode = 2
    return
  }
  let command: Command | undefined
  try {
    command = (await load()).command
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${command.summary}\n\n${command.usage}\n`)
      return
    }
    process.exitCode = await command.run(rest)
  } catch (err) {
    if (isRoostError(err)) {
      printError(err.message, err.hint ?? `docs/errors.md says what to do about ${err.code}`, otherProblems(err))
      process.exitCode = command?.errorExitCode ?? (err.code === 'ROOST_E_USAGE' ? 2 : 1)
      return
    }
    printError(`unexpected failure: ${(err as Error).stack ?? String(err)}`, 'this is a bug in roost; please report it with the command you ran')
    process.exitCode = command?.errorExitCode ?? 1
  }
}

/** One line of cause, one line of hint; further problems of the same input in between. */
export function printError (cause: string, hint: string | undefined, more: string[] = []): void {
  process.stderr.write(`error: ${cause}\n`)
  for (const line of more) process.stderr.write(`       ${line}\n`)
  if (hint !== undefined) process.stderr.write(`hint: ${hint}\n`)
}

/** A validation error lists every bad field; the first is already the cause. */
function otherProblems (err: RoostError): string[] {
  const errors = err instanceof ValidationError ? err.errors : err instanceof ApiError ? (err.problem.errors ?? []) : []
  return errors.slice(1).map((problem) => `${problem.field}: ${problem.message}`)
}
