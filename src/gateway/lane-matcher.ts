import { MAX_REGEX_INPUT, unsafeRegexReason, type LaneMatch, type StringMatch } from '../governance/index.js'
import { isHeaderName } from './header-name.js'

// Lanes (the first routing layer, before the version split): a request whose
// headers, cookies, query or path match a lane's conditions goes to the
// traffic entry of that lane. Compiled once per routing table; a function
// without lanes never gets here.

type Test = (value: string | undefined) => boolean

interface CompiledLane {
  lane: string
  headers: Array<{ name: string, test: Test }>
  cookies: Array<{ name: string, test: Test }>
  query: Array<{ name: string, test: Test }>
  path: Test | null
}

/** The request facts lanes read. */
export interface LaneRequest {
  url: string
  rawHeaders: string[]
}

export class LaneMatcher {
  private readonly lanes: CompiledLane[]
  private readonly needsCookies: boolean
  private readonly needsQuery: boolean

  constructor (lanes: readonly LaneMatch[]) {
    this.lanes = lanes.map((lane) => ({
      lane: lane.lane,
      headers: lane.headers.map((h) => ({ name: h.name.toLowerCase(), test: compile(h.match) })),
      cookies: lane.cookies.map((c) => ({ name: c.name, test: compile(c.match) })),
      query: lane.query.map((q) => ({ name: q.name, test: compile(q.match) })),
      path: lane.path === undefined ? null : compile(lane.path)
    }))
    this.needsCookies = this.lanes.some((lane) => lane.cookies.length > 0)
    this.needsQuery = this.lanes.some((lane) => lane.query.length > 0)
  }

  /** The first lane whose every condition holds, or undefined. */
  match (request: LaneRequest): string | undefined {
    const cookies = this.needsCookies ? parseCookies(headerOf(request.rawHeaders, 'cookie')) : null
    const q = request.url.indexOf('?')
    const path = q === -1 ? request.url : request.url.slice(0, q)
    const query = this.needsQuery && q !== -1 ? new URLSearchParams(request.url.slice(q + 1)) : null
    for (const lane of this.lanes) {
      if (lane.path !== null && !lane.path(path)) continue
      if (!lane.headers.every((h) => h.test(headerOf(request.rawHeaders, h.name)))) continue
      if (!lane.cookies.every((c) => c.test(cookies?.get(c.name)))) continue
      if (!lane.query.every((p) => p.test(query?.get(p.name) ?? undefined))) continue
      return lane.lane
    }
    return undefined
  }
}

function compile (match: StringMatch): Test {
  if ('exact' in match) {
    const exact = match.exact
    return (value) => value === exact
  }
  if ('prefix' in match) {
    const prefix = match.prefix
    return (value) => value !== undefined && value.startsWith(prefix)
  }
  // The API refuses unsafe patterns; one that got into a table anyway matches nothing rather than stall the gateway.
  if (unsafeRegexReason(match.regex) !== null) return () => false
  const regex = new RegExp(match.regex)
  return (value) => value !== undefined && value.length <= MAX_REGEX_INPUT && regex.test(value)
}

/** `name` is lower case; several headers of one name are joined as node joins them. */
function headerOf (raw: string[], name: string): string | undefined {
  let found: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    if (!isHeaderName(raw[i], name)) continue
    found = found === undefined ? raw[i + 1] : `${found}${name === 'cookie' ? '; ' : ', '}${raw[i + 1]}`
  }
  return found
}

function parseCookies (header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  if (header === undefined) return cookies
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim())
  }
  return cookies
}
