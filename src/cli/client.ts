import { ApiError, ConnectionError, type ProblemDetails } from '../errors/index.js'
import type { ClientConfig } from '../home/index.js'

/** A thin client of the REST API: JSON in, JSON out, problems become ApiErrors. */
export class ApiClient {
  constructor (private readonly config: ClientConfig) {}

  get gatewayUrl (): string {
    return this.config.gateway
  }

  get<T> (path: string): Promise<T> {
    return this.request<T>('GET', path)
  }

  put<T> (path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body)
  }

  post<T> (path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {})
  }

  delete<T> (path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  /** Opens a streaming GET (for `logs -f`); the caller reads the body. */
  async stream (path: string, signal?: AbortSignal): Promise<Response> {
    const response = await this.send('GET', path, undefined, signal)
    if (!response.ok) throw await problemOf(response)
    return response
  }

  private async request<T> (method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body)
    if (!response.ok) throw await problemOf(response)
    return await response.json() as T
  }

  private async send (method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.config.token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    try {
      return await fetch(this.config.api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal })
    } catch (err) {
      const cause = causeOf(err)
      if (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND' || method === 'GET') {
        throw new ConnectionError(`cannot reach the Roost API at ${this.config.api}: ${cause}`, { hint: 'is `roost up` running? ROOST_HOME selects which platform the CLI talks to' })
      }
      // The request may or may not have been applied before the connection broke.
      throw new ConnectionError(`the Roost API at ${this.config.api} went away during ${method} ${path}: ${cause}`, {
        hint: 'it may or may not have been applied; once the platform is back, `roost get versions NAME` shows which, and repeating the command is safe'
      })
    }
  }
}

async function problemOf (response: Response): Promise<ApiError> {
  const text = await response.text()
  try {
    const problem = JSON.parse(text) as ProblemDetails
    if (typeof problem.code === 'string' && typeof problem.detail === 'string') return new ApiError(problem)
  } catch {}
  return new ApiError({ type: 'about:blank', title: response.statusText, status: response.status, detail: `HTTP ${response.status}: ${text.slice(0, 200)}`, code: 'ROOST_E_HTTP' })
}

function causeOf (err: unknown): string {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message
}
