// Cancelling a record not yet run (`DELETE …/invocations/ID`): only a ready
// one can be; a leased one is running and runs to its end.
// Runs inside the EventStore's transaction.
import type Database from 'better-sqlite3'
import type { QueuePolicy } from './queue-policy.js'
import type { CancelOutcome, RecordState } from './record-types.js'

interface Target {
  seq: number
  state: RecordState
  namespace: string
  queue: string
}

const SQL = {
  target: 'SELECT seq, state, namespace, queue FROM records WHERE id = ?',
  cancel: "UPDATE records SET state = 'cancelled', finished_at = ?, retain_until = ? WHERE seq = ?"
} as const

export class Canceller {
  private readonly target: Database.Statement<[string], Target>
  private readonly cancelStatement: Database.Statement<[number, number, number]>

  constructor (db: Database.Database) {
    this.target = db.prepare<[string], Target>(SQL.target)
    this.cancelStatement = db.prepare<[number, number, number]>(SQL.cancel)
  }

  cancel (id: string, now: number, policyOf: (namespace: string, queue: string) => QueuePolicy): CancelOutcome {
    const target = this.target.get(id)
    if (target === undefined) return 'not-found'
    if (target.state === 'leased') return 'running'
    if (target.state !== 'ready') return 'finished'
    this.cancelStatement.run(now, now + policyOf(target.namespace, target.queue).retentionMs, target.seq)
    return 'cancelled'
  }
}
