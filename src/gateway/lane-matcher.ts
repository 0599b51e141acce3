import { MAX_REGEX_INPUT, unsafeRegexReason, type LaneMatch, type StringMatch } from '../governance/index.js'
import { cookieValue } from './cookie-value.js'
import { isHeaderName } from './header-name.js'
import { queryValue } from './query-value.js'

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

  constructor (lanes: readonly LaneMatch[]) {
    this.lanes = lanes.map((lane) => ({
      lane: lane.lane,
      headers: lane.headers.map((h) => ({ name: h.name.toLowerCase(), test: compile(h.match) })),
      cookies: lane.cookies.map((c) => ({ name: c.name, test: compile(c.match) })),
      query: lane.query.map((q) => ({ name: q.name, test: compile(q.match) })),
      path: lane.path === undefined ? null : compile(lane.path)
    }))
    this.needsCookies = this.lanes.some((lane) => lane.cookies.length > 0)
  }

  /** The first lane whose every condition holds, or undefined. */
  match (request: LaneRequest): string | undefined {
    // Loops rather than every(): a closure per condition per request is garbage for nothing.
    const cookie = this.needsCookies ? headerOf(request.rawHeaders, 'cookie') : undefined
    const url = request.url
    let path: string | undefined
    for (let l = 0; l < this.lanes.length; l++) {
      const lane = this.lanes[l]
      if (lane.path !== null) {
        if (path === undefined) {
          const q = url.indexOf('?')
          path = q === -1 ? url : url.slice(0, q)
        }
        if (!lane.path(path)) continue
      }
      if (allHold(lane, request.rawHeaders, cookie, url)) return lane.lane
    }
    return undefined
  }
}

function allHold (lane: CompiledLane, rawHeaders: string[], cookie: string | undefined, url: string): boolean {
  for (let i = 0; i < lane.headers.length; i++) {
    const h = lane.headers[i]
    if (!h.test(headerOf(rawHeaders, h.name))) return false
  }
  for (let i = 0; i < lane.cookies.length; i++) {
    const c = lane.cookies[i]
    if (!c.test(cookieValue(cookie, c.name))) return false
  }
  for (let i = 0; i < lane.query.length; i++) {
    const p = lane.query[i]
    if (!p.test(queryValue(url, p.name))) return false
  }
  return true
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
