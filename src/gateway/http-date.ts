/** The Date header's value (RFC 9110 §6.6.1), made once a second rather than per response. */
let second = -1
let text = ''

export function httpDate (now = Date.now()): string {
  const current = Math.floor(now / 1000)
  if (current !== second) {
    second = current
    text = new Date(current * 1000).toUTCString()
  }
  return text
}
