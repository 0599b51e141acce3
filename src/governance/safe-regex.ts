// A lane's or a rule's `regex` runs in the gateway, which every tenant shares:
// a pattern that backtracks exponentially would stall all of them. Node has no
// linear-time engine built in, so patterns are held to what backtracks at most
// polynomially and briefly: no nested quantifiers (star height 1, the cause of
// `(a+)+`), no backreferences, a bounded length; values tested are bounded too.

export const MAX_REGEX_LENGTH = 256
/** Longer values are not matched against a regex (they count as not matching). */
export const MAX_REGEX_INPUT = 1024

/** Why the pattern is refused, or null when it is safe to run in the gateway. */
export function unsafeRegexReason (pattern: string): string | null {
  if (pattern.length > MAX_REGEX_LENGTH) return `a regex is at most ${MAX_REGEX_LENGTH} characters`
  try {
    // eslint-disable-next-line no-new
    new RegExp(pattern)
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`
  }
  // For every open group: whether a quantifier appears inside it.
  const quantifiedInside: boolean[] = []
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') {
      const next = pattern[i + 1] ?? ''
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed in a regex the gateway runs'
      i++
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
      continue
    }
    if (c === '[') { inClass = true; continue }
    if (c === '(') { quantifiedInside.push(false); continue }
    if (c === ')') {
      const inner = quantifiedInside.pop() ?? false
      const after = pattern[i + 1]
      const quantified = after === '*' || after === '+' || after === '?' || after === '{'
      if (inner && quantified) return 'nested quantifiers (like `(a+)+`) are not allowed in a regex the gateway runs: they can backtrack for ever'
      if ((inner || quantified) && quantifiedInside.length > 0) quantifiedInside[quantifiedInside.length - 1] = true
      continue
    }
    if (c === '*' || c === '+' || c === '{' || (c === '?' && pattern[i - 1] !== '(')) {
      if (quantifiedInside.length > 0) quantifiedInside[quantifiedInside.length - 1] = true
    }
  }
  return null
}
