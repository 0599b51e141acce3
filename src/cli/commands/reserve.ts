import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, printTable } from '../output.js'
import { UsageError } from '../../errors/index.js'

const ROUTE = '/apis/roost.dev/v1/route-reservations'

interface Reservation {
  prefix: string
  namespace: string
  createdAt: string
}

export const command: Command = {
  summary: 'Reserve a path prefix of the gateway for one namespace.',
  usage: `Usage: roost reserve PREFIX -n NS        reserve PREFIX (e.g. /team-a) for namespace NS
       roost reserve --delete PREFIX     release a reservation
       roost reserve --list              list the reservations

Only functions of NS may then route at PREFIX, under it or above it. A prefix
another namespace already routes is refused (409). Needs the admin token;
--list works with any token.`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('reserve', argv, {
      namespace: { type: 'string', short: 'n' },
      delete: { type: 'boolean' },
      list: { type: 'boolean' }
    })
    if (values.list === true) {
      if (positionals.length > 0 || values.delete === true || values.namespace !== undefined) throw usage('reserve --list takes no prefix and no -n')
      const { items } = await connect().get<{ items: Reservation[] }>(ROUTE)
      printTable(['PREFIX', 'NAMESPACE', 'AGE'], items.map((r) => [r.prefix, r.namespace, age(r.createdAt)]), 'No route reservations.')
      return 0
    }
    const prefix = positionals[0]
    if (prefix === undefined || positionals.length > 1) throw usage('reserve needs one PREFIX, such as /team-a')
    if (values.delete === true) {
      if (values.namespace !== undefined) throw usage('reserve --delete PREFIX takes no -n: a prefix has one reservation')
      await connect().delete(`${ROUTE}?prefix=${encodeURIComponent(prefix)}`)
      process.stdout.write(`released ${prefix}\n`)
      return 0
    }
    if (values.namespace === undefined) throw usage('reserve PREFIX needs -n NAMESPACE')
    const answer = await connect().put<{ result: string }>(ROUTE, { prefix, namespace: values.namespace })
    process.stdout.write(`${prefix} ${answer.result} for namespace ${values.namespace}\n`)
    return 0
  }
}

function usage (message: string): UsageError {
  return new UsageError(message, { hint: 'e.g. `roost reserve /team-a -n team-a`; `roost reserve --help` shows all forms' })
}
