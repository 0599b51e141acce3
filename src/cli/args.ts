import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../errors/index.js'

type Options = NonNullable<ParseArgsConfig['options']>

export interface ParsedArgs<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string }
  positionals: string[]
}

/** node's own parser, with its errors turned into usage errors that name the command. */
export function parseCommandArgs<O extends Options> (command: string, argv: string[], options: O): ParsedArgs<O> {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
    return parsed as unknown as ParsedArgs<O>
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.split('\n')[0]}`, { hint: `run \`roost ${command} --help\`` })
  }
}

export const namespaceOption = { namespace: { type: 'string', short: 'n' } } as const
export const helpOption = { help: { type: 'boolean', short: 'h' } } as const
