/**
 * Pure parsers for the text forms inputs arrive in. Every error names the input it came from,
 * so the message can tell the user which line of which input to fix.
 */
import { InputError } from '../base/errors.js'
import { shown } from '../base/untrusted.js'

/** One `KEY=VALUE` pair; `line` is 1-based in the input text. */
export interface KeyValue {
  key: string
  value: string
  line: number
}

/**
 * Parses `KEY=VALUE` lines. The value is everything after the first `=`, kept exactly (commas,
 * further `=`, spaces and quotes included). Blank lines and lines starting with `#` are skipped.
 */
export function parseKeyValueLines(text: string, inputName: string): KeyValue[] {
  const pairs: KeyValue[] = []
  const seen = new Map<string, number>()
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1
    if (raw.includes('\r')) {
      // A lone CR ends a line for the runner: a value must not hold one (see checkInputText).
      throw new InputError(
        `Input '${inputName}' line ${line} contains a carriage return (U+000D) that does not end the line: put each KEY=VALUE on one line.`
      )
    }
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return
    const eq = raw.indexOf('=')
    if (eq < 0) {
      // Parameter values may be secrets (NoEcho), and such a line may be the rest of one.
      const shown = inputName === 'parameter-overrides' ? '' : ` ("${raw.trim()}")`
      throw new InputError(
        `Input '${inputName}' line ${line}${shown} has no '=': write one KEY=VALUE per line.`
      )
    }
    const key = raw.slice(0, eq).trim()
    if (key === '') {
      throw new InputError(
        `Input '${inputName}' line ${line} has an empty key before '=': write one KEY=VALUE per line.`
      )
    }
    const previous = seen.get(key)
    if (previous !== undefined) {
      throw new InputError(
        `Input '${inputName}' sets '${key}' twice (lines ${previous} and ${line}): keep one of them.`
      )
    }
    seen.set(key, line)
    pairs.push({ key, value: raw.slice(eq + 1), line })
  })
  return pairs
}

/** Splits a list given one item per line or comma-separated; trims and drops empty items. */
export function parseList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** A whole number in [1, max]; anything else is an error naming the input, never `undefined`. */
export function parsePositiveInt(text: string, inputName: string, max: number): number {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) {
    throw new InputError(
      `Input '${inputName}' must be a whole number between 1 and ${max}, got '${shown(text)}'.`
    )
  }
  const value = Number(trimmed)
  if (value < 1 || value > max) {
    throw new InputError(
      `Input '${inputName}' must be a whole number between 1 and ${max}, got '${shown(text)}'.`
    )
  }
  return value
}
