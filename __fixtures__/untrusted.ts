/**
 * Hostile text, as an attacker puts it in a pull-request title, a build arg, a file, a Dockerfile's
 * RUN output or a stack output, and the check every test of the "untrusted text" rule shares: which
 * lines of the raw stdout the runner would obey as workflow commands the action did not write.
 */

/** One hostile text per way of starting a line the runner reads (LF, CR, CRLF, NEL, indentation, `##[`). */
export const HOSTILE: Record<string, string> = {
  lf: 'app\n::warning::PWNED',
  cr: 'app\r::warning::PWNED',
  crlf: 'app\r\n::warning::PWNED',
  'stop-commands': 'app\n::stop-commands::token',
  indented: 'app\n \t ::warning::PWNED',
  nel: 'app\n\u0085::warning::PWNED',
  'line separator': 'app\u2028::warning::PWNED',
  'old form': 'app ##[warning]PWNED',
  'add-mask': 'app\n::add-mask::PWNED'
}

/** Every hostile text as `[name, text]` rows for `test.each`. */
export const HOSTILE_ROWS = Object.entries(HOSTILE)

/** The workflow commands the action writes itself (their data escaped by @actions/core). */
const OWN = /^::(error|warning|debug|notice|group|endgroup|add-mask)::/

/**
 * The lines of `text` (split on CR, LF and CRLF, as the runner splits them) that would start a
 * workflow command the action did not write: `::` after leading whitespace that is not one of the
 * action's own commands or carries a hostile payload, and the older `##[` form anywhere.
 */
export function injectedCommands(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((line) => {
    const start = line.replace(/^[\s\u0085]+/, '')
    if (line.includes('##[')) return true
    if (!start.startsWith('::')) return false
    return !OWN.test(start) || /^::[\w-]+::(PWNED|token)/.test(start)
  })
}
