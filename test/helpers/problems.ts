// Assertions shared by the end-to-end tests of failures: problem+json answers
// (RFC 9457) of the gateway and the API, and the CLI's error/hint lines.
import assert from 'node:assert/strict'
import type { CliResult } from './platform.js'

export interface Problem {
  type: string
  title: string
  status: number
  code: string
  detail: string
  hint?: string
  field?: string
  line?: number
  column?: number
  requestId?: string | null
  errors?: Array<{ field: string, message: string }>
}

/** Reads a response that must be application/problem+json with this status (and code). */
export async function expectProblem (response: Response, status: number, code?: string): Promise<Problem> {
  const text = await response.text()
  assert.equal(response.status, status, `expected HTTP ${status}, got ${response.status}: ${text}`)
  const contentType = response.headers.get('content-type') ?? ''
  assert.equal(contentType.split(';')[0].trim(), 'application/problem+json', `content-type of a ${status}: ${contentType}`)
  let problem: Problem
  try {
    problem = JSON.parse(text) as Problem
  } catch {
    assert.fail(`a problem+json body must be JSON, got: ${text}`)
  }
  assert.equal(problem.status, status, text)
  assert.equal(typeof problem.detail, 'string', text)
  assert.equal(typeof problem.code, 'string', text)
  if (code !== undefined) assert.equal(problem.code, code, text)
  return problem
}

/**
 * A CLI run that failed as the CLI promises to: the exit code, one `error: `
 * line of cause (matching `cause`) and one `hint: ` line on stderr.
 */
export function expectCliError (result: CliResult, cause: RegExp, exitCode = 1): { error: string, hint: string } {
  const output = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`
  assert.equal(result.code, exitCode, output)
  const error = /^error: (.*)$/m.exec(result.stderr)
  const hint = /^hint: (.*)$/m.exec(result.stderr)
  assert.ok(error !== null, `no "error: " line\n${output}`)
  assert.ok(hint !== null && hint[1].trim() !== '', `no "hint: " line\n${output}`)
  assert.match(error[1], cause, output)
  assert.doesNotMatch(result.stderr, /unexpected failure|\n\s+at .+:\d+:\d+\)?\n/, `the CLI printed a crash instead of an error\n${output}`)
  return { error: error[1], hint: hint[1] }
}
