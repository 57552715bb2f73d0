/**
 * Untrusted text stays text: the one rule for every byte the action prints. Text from an input, a
 * file, docker or AWS (stack outputs, parameter values, event reasons, error messages) may hold a
 * line break followed by `::warning::…` or `::stop-commands::…`, which the runner would obey.
 * `log.ts` passes every message through `plain` (and errors through `forError`), the docker
 * runner prints its command line through `oneLine`; nothing else writes to stdout.
 *
 * - A CR that ends a line (CRLF, docker's `\r\r\n`) is a line end; any other control character
 *   is shown as its Unicode control picture (`␍`, `␛`, …) or as `\u0085` for C1 controls.
 * - A line that would start a workflow command (`::` after leading whitespace) gets a `\` before
 *   the `::`; `##[` (the runner's older command form, obeyed anywhere in a line) becomes `##\[`.
 * - In error and warning messages every word longer than 240 characters is cut to 200, and every
 *   line longer than 1000 to 1000, with `…` (messages that echo a value cut it to 200 with `shown`).
 */

/** How many characters of one value an error shows. */
export const MAX_VALUE_CHARS = 200
/** How many characters of one line an error or warning shows. */
export const MAX_LINE_CHARS = 1000

/**
 * A control character other than tab and LF: C0 controls (CR among them), DEL, C1 controls (NEL
 * among them), the line and paragraph separators. No line the action prints, and no line of an
 * input, holds one (inputs/text.ts refuses them with this pattern).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_IN_LINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/
const CONTROL = new RegExp(CONTROL_IN_LINE.source, 'g')

/** The character as a person can read it in a log: `␍` for CR, `\u0085` for NEL. */
function picture(char: string): string {
  const code = char.charCodeAt(0)
  if (code < 0x20) return String.fromCharCode(0x2400 + code)
  if (code === 0x7f) return '␡'
  return `\\u${code.toString(16).padStart(4, '0')}`
}

/** One line made harmless: a leading `::` escaped, `##[` broken. */
function harmlessLine(line: string): string {
  return line.replace(/^(\s*)::/, '$1\\::').replaceAll('##[', '##\\[')
}

/**
 * Text safe to print as log lines: line ends kept (CRLF becomes LF), every other control character
 * shown as a picture, no line able to start a workflow command.
 */
export function plain(text: string): string {
  return text
    .replace(/\r+(?=\n|$)/g, '')
    .replace(CONTROL, picture)
    .split('\n')
    .map(harmlessLine)
    .join('\n')
}

/** Text safe to print as one log line: LF shown as `␊` too. */
export function oneLine(text: string): string {
  return harmlessLine(text.replace(CONTROL, picture).replaceAll('\n', '␊'))
}

/** `value` cut to `max` characters with `…` when longer. */
export function cut(value: string, max = MAX_VALUE_CHARS): string {
  return value.length > max ? `${value.slice(0, max)}…` : value
}

/**
 * A value for an error message: one line, control characters shown, cut to 200 characters.
 * Messages that echo what the user gave use it: `got '${shown(value)}'`.
 */
export function shown(value: string): string {
  return oneLine(cut(value))
}

/**
 * The secrets this run masked (`log.secret`): cutting a word could leave a prefix of one that the
 * runner's mask (the whole value) no longer matches, so they are replaced by `***` before any cut.
 */
const secrets = new Set<string>()

/** Remembers a masked value, so `forError` hides it before it cuts anything. */
export function rememberSecret(value: string): void {
  if (value !== '') secrets.add(value)
}

function withoutSecrets(message: string): string {
  let result = message
  for (const value of [...secrets].sort((a, b) => b.length - a.length)) {
    result = result.replaceAll(value, '***')
  }
  return result
}

/**
 * An error or warning message as printed: `plain`, long words and long lines cut; a masked value
 * in what is cut is hidden first, since the runner's mask no longer matches a part of it.
 */
export function forError(message: string): string {
  const cutHidden = (text: string, max: number): string => cut(withoutSecrets(text), max)
  return plain(message)
    .split('\n')
    .map((line) => {
      // A `shown` value keeps its quotes and stop: only longer words are cut.
      const words = line.replace(/\S{241,}/g, (word) => cutHidden(word, MAX_VALUE_CHARS))
      return words.length > MAX_LINE_CHARS ? cutHidden(words, MAX_LINE_CHARS) : words
    })
    .join('\n')
}

/**
 * A URL (valid or not) with its user info replaced by `***`: `http://user:pass@proxy:3128` is shown
 * as `http://***@proxy:3128`. Everything before the last `@` of the authority is hidden, so a
 * malformed URL with an `@` in its password hides it all the same.
 */
export function hideUserInfo(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? ''
  const rest = url.slice(scheme.length)
  const pathStart = rest.search(/[/?#](?=[^@]*$)/)
  const authority = pathStart < 0 ? rest : rest.slice(0, pathStart)
  const at = authority.lastIndexOf('@')
  if (at < 0) return url
  return `${scheme}***${rest.slice(at)}`
}
