import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../errors/index.js'

type Options = NonNullable<ParseArgsConfig['options']>

export interface ParsedArgs<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string }
  positionals: string[]
}

/** node's own parser, with its errors turned into one line of cause and one of hint that name the command. */
export function parseCommandArgs<O extends Options> (command: string, argv: string[], options: O): ParsedArgs<O> {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
    return parsed as unknown as ParsedArgs<O>
  } catch (err) {
    throw new UsageError(usageProblem(command, err as Error & { code?: string }), { hint: `see \`roost ${command} --help\`` })
  }
}

function usageProblem (command: string, err: Error & { code?: string }): string {
  const message = err.message.split('\n')[0]
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? ''
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${quoted} for roost ${command}`
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = quoted.split(' ')[0].replace(/,$/, '')
    const long = /--[\w-]+/.exec(quoted)?.[0] ?? flag
    if (message.includes('does not take an argument')) return `flag ${long} of roost ${command} takes no value`
    return `flag ${long} of roost ${command} needs a value`
  }
  return `roost ${command}: ${message}`
}

export const namespaceOption = { namespace: { type: 'string', short: 'n' } } as const
export const helpOption = { help: { type: 'boolean', short: 'h' } } as const
