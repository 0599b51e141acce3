/** One `roost` subcommand; main.ts loads it on demand, so this type lives apart from main.ts. */
export interface Command {
  summary: string
  usage: string
  run (argv: string[]): Promise<number>
  /** The exit code of a failure, when 1 means something else (`diff` exits 1 for "different"). */
  errorExitCode?: number
}
