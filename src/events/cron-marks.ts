// The latest scheduled time fired per cron trigger: where catch-up starts
// after a restart or downtime. It only moves forward.
import type Database from 'better-sqlite3'

const SQL = {
  mark: `
    INSERT INTO cron_marks (namespace, trigger_name, last_scheduled_at) VALUES (?, ?, ?)
    ON CONFLICT (namespace, trigger_name) DO UPDATE SET last_scheduled_at = max(last_scheduled_at, excluded.last_scheduled_at)`,
  last: 'SELECT last_scheduled_at FROM cron_marks WHERE namespace = ? AND trigger_name = ?',
  forget: 'DELETE FROM cron_marks WHERE namespace = ? AND trigger_name = ?'
} as const

export class CronMarks {
  private readonly markStatement: Database.Statement<[string, string, number]>
  private readonly lastStatement: Database.Statement<[string, string], number>
  private readonly forgetStatement: Database.Statement<[string, string]>

  constructor (db: Database.Database) {
    this.markStatement = db.prepare<[string, string, number]>(SQL.mark)
    this.lastStatement = db.prepare<[string, string], number>(SQL.last).pluck()
    this.forgetStatement = db.prepare<[string, string]>(SQL.forget)
  }

  mark (namespace: string, trigger: string, scheduledTime: number): void {
    this.markStatement.run(namespace, trigger, scheduledTime)
  }

  last (namespace: string, trigger: string): number | undefined {
    return this.lastStatement.get(namespace, trigger)
  }

  forget (namespace: string, trigger: string): boolean {
    return this.forgetStatement.run(namespace, trigger).changes === 1
  }
}
