import type { ResponseSink } from './response-sink.js'

export const PROBLEM_TYPE = 'application/problem+json'

/** What the runtime itself answers instead of a handler's Response. */
export interface RuntimeProblem {
  status: number
  code: string
  detail: string
  /** The request field at fault (a delivery's `messages[2].bodyType`). */
  field?: string
}

/** problemTitle() of src/errors, which the runtime may not import: ROOST_E_NO_HANDLER → "No handler". */
export function problemTitle (code: string): string {
  const words = code.replace(/^ROOST_E_/, '').toLowerCase().replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The application/problem+json document (RFC 9457) of `problem`, with the request id. */
export function problemDocument (problem: RuntimeProblem, requestId: string): string {
  const document: Record<string, unknown> = {
    type: `https://roost.dev/errors/${problem.code}`,
    title: problemTitle(problem.code),
    status: problem.status,
    code: problem.code,
    detail: problem.detail
  }
  if (problem.field !== undefined) document.field = problem.field
  document.requestId = requestId
  return JSON.stringify(document)
}

/** Writes `problem` as the answer; nothing if the caller went away. */
export function writeProblem (sink: ResponseSink, problem: RuntimeProblem, requestId: string): void {
  if (sink.closed) return
  sink.whole(problem.status, ['content-type', PROBLEM_TYPE], problemDocument(problem, requestId), false)
}
