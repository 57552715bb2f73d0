/**
 * Reading one raw input as text, a required value, a true/false flag or a list. The readers of
 * each input build on these, so every input is trimmed and refused the same way. Before any of
 * them, `checkInputText` refuses control characters (see docs/RELIABILITY.md, "Untrusted text").
 */
import { InputError } from '../base/errors.js'
import { CONTROL_IN_LINE, shown } from '../base/untrusted.js'
import { INPUT_NAMES, type InputName, type RawInputs } from './raw.js'
import { parseList } from '../rules/parse.js'

/** The input's text, trimmed ('' when not set). */
export function text(raw: RawInputs, name: InputName): string {
  return raw[name].trim()
}

/** The input's trimmed text; an error saying what to give when it is empty. */
export function required(raw: RawInputs, name: InputName, hint: string): string {
  const value = text(raw, name)
  if (value === '') throw new InputError(`Input '${name}' is required: ${hint}.`)
  return value
}

/** A true/false input, in the spellings YAML 1.2 core schema accepts; `fallback` when empty. */
export function flag(raw: RawInputs, name: InputName, fallback: boolean): boolean {
  const value = text(raw, name)
  if (value === '') return fallback
  if (/^(true|True|TRUE)$/.test(value)) return true
  if (/^(false|False|FALSE)$/.test(value)) return false
  throw new InputError(`Input '${name}' must be true or false, got '${shown(value)}'.`)
}

/** A list input, comma- or newline-separated (see `parseList`). */
export function list(raw: RawInputs, name: InputName): string[] {
  return parseList(raw[name])
}

/** The inputs given one item or KEY=VALUE per line; every other input is a single line. */
export const MULTI_LINE_INPUTS: ReadonlySet<InputName> = new Set<InputName>([
  'build-args',
  'parameter-overrides',
  'tags',
  'capabilities',
  'image-tags',
  'cache-from',
  'notification-arns',
  'rollback-alarms',
  'regions',
  'accounts',
  'organizational-units',
  'region-order'
])

/** Any control character: CONTROL_IN_LINE, tab and LF. */
const CONTROL = new RegExp(`[\t\n]|${CONTROL_IN_LINE.source}`)

/** `U+000D (carriage return)`: the character named, never printed. */
function described(char: string): string {
  const code = char.charCodeAt(0)
  const name = { 9: 'tab', 10: 'line feed', 13: 'carriage return', 27: 'escape' }[code]
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}${name ? ` (${name})` : ''}`
}

/**
 * Refuses control characters before any input is read: a single-line input (trimmed) holds none;
 * a multi-line one holds tabs and line ends (LF or CRLF) only, so a lone CR cannot end a line the
 * runner would read as a workflow command. The message names the input and the character, never
 * the value (it may be a secret).
 */
export function checkInputText(raw: RawInputs): void {
  for (const name of INPUT_NAMES) {
    if (MULTI_LINE_INPUTS.has(name)) {
      checkLines(name, raw[name])
      continue
    }
    const value = raw[name].trim()
    const found = CONTROL.exec(value)
    if (found) {
      throw new InputError(
        `Input '${name}' contains the control character ${described(found[0])} at position ${found.index + 1}: give it on one line, without control characters.`
      )
    }
  }
}

function checkLines(name: InputName, value: string): void {
  value.split('\n').forEach((line, index) => {
    const body = line.endsWith('\r') ? line.slice(0, -1) : line
    const found = CONTROL_IN_LINE.exec(body)
    if (!found) return
    const what =
      found[0] === '\r'
        ? 'a carriage return (U+000D) that does not end the line (only LF or CRLF line ends are read)'
        : `the control character ${described(found[0])}`
    throw new InputError(
      `Input '${name}' line ${index + 1} contains ${what}: remove it, one item or KEY=VALUE per line.`
    )
  })
}
