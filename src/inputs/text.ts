/**
 * Reading one raw input as text, a required value, a true/false flag or a list. The readers of
 * each input build on these, so every input is trimmed and refused the same way.
 */
import { InputError } from '../base/errors.js'
import type { InputName, RawInputs } from './raw.js'
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
  throw new InputError(`Input '${name}' must be true or false, got '${value}'.`)
}

/** A list input, comma- or newline-separated (see `parseList`). */
export function list(raw: RawInputs, name: InputName): string[] {
  return parseList(raw[name])
}
