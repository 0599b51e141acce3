import type { ServerResponse } from 'node:http'

// Error answers of the data plane, as application/problem+json (RFC 9457).
// Bodies are built only on the error path; the success path never sees this.

export function sendProblem (
  res: ServerResponse,
  status: number,
  code: string,
  detail: string,
  requestId: string | null,
  extraHeaders?: Record<string, string>
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ type: `https://roost.dev/errors/${code}`, title: code, status, code, detail, requestId })
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    ...extraHeaders
  }
  if (requestId !== null) headers['x-request-id'] = requestId
  res.writeHead(status, headers)
  res.end(body)
}
