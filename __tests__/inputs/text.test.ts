/** input-text.ts: one raw input read as trimmed text, a required value, a flag or a list. */
import { describe, expect, it, test } from '@jest/globals'
import { createRawInputs, inputError } from '../../__fixtures__/inputs.js'
import { HOSTILE_ROWS } from '../../__fixtures__/untrusted.js'
import { INPUT_NAMES, type InputName } from '../../src/inputs/raw.js'
import {
  checkInputText,
  flag,
  list,
  MULTI_LINE_INPUTS,
  required,
  text
} from '../../src/inputs/text.js'

describe('text and required', () => {
  it('trims the input and gives an empty one as empty', () => {
    expect(text(createRawInputs({ target: ' runtime\n' }), 'target')).toBe('runtime')
    expect(text(createRawInputs(), 'target')).toBe('')
  })

  it('refuses a blank required input with the hint', () => {
    const raw = createRawInputs({ bucket: ' \n' })
    expect(inputError(() => required(raw, 'bucket', 'name the bucket'))).toBe(
      "Input 'bucket' is required: name the bucket."
    )
    expect(required(createRawInputs(), 'bucket', 'name the bucket')).toBe('my-artifacts')
  })
})

describe('flag', () => {
  it.each([
    ['', true, true],
    ['', false, false],
    [' true ', false, true],
    ['True', false, true],
    ['TRUE', false, true],
    ['false', true, false],
    ['False', true, false],
    ['FALSE', true, false]
  ])('reads %j (default %s) as %s', (value, fallback, expected) => {
    expect(flag(createRawInputs({ 'pin-digest': value }), 'pin-digest', fallback)).toBe(expected)
  })

  it.each(['yes', '1', 'tRue', 'on'])('refuses %j', (value) => {
    const raw = createRawInputs({ 'pin-digest': value })
    expect(inputError(() => flag(raw, 'pin-digest', true))).toBe(
      `Input 'pin-digest' must be true or false, got '${value}'.`
    )
  })
})

describe('list', () => {
  it('splits on commas and newlines, dropping blanks', () => {
    const raw = createRawInputs({ 'cache-from': ' a:1,\n\nb:2 , ' })
    expect(list(raw, 'cache-from')).toEqual(['a:1', 'b:2'])
  })
})

const SINGLE_LINE = INPUT_NAMES.filter((name) => !MULTI_LINE_INPUTS.has(name))
const MULTI_LINE = INPUT_NAMES.filter((name) => MULTI_LINE_INPUTS.has(name))

/** The message of checkInputText for one input set to `value`, '' when accepted. */
function refusal(name: InputName, value: string): string {
  try {
    checkInputText(createRawInputs({ [name]: value }))
    return ''
  } catch (error) {
    return (error as Error).message
  }
}

describe('checkInputText: single-line inputs refuse control characters', () => {
  test.each(SINGLE_LINE)(
    '%s refuses every hostile text, naming the input, never the value',
    (name) => {
      for (const [, hostile] of HOSTILE_ROWS) {
        if (hostile.includes('##[')) continue // printable: made harmless when printed, not refused
        const message = refusal(name, hostile)
        expect(message).toMatch(
          new RegExp(`^Input '${name}' contains the control character U\\+[0-9A-F]{4}`)
        )
        expect(message).not.toContain('PWNED')
      }
    }
  )

  it.each([
    ['app\n::warning::PWNED', 'U+000A (line feed) at position 4'],
    ['app\r::warning::PWNED', 'U+000D (carriage return) at position 4'],
    ['a\tb', 'U+0009 (tab) at position 2'],
    ['a\u001bb', 'U+001B (escape) at position 2'],
    ['a\u0085b', 'U+0085 at position 2']
  ])('names the character of %j', (value, what) => {
    expect(refusal('target', value)).toBe(
      `Input 'target' contains the control character ${what}: give it on one line, without control characters.`
    )
  })

  it('accepts the line ends a YAML block scalar leaves around a value', () => {
    expect(refusal('target', 'runtime\n')).toBe('')
    expect(refusal('stack-name', '  my-stack \r\n')).toBe('')
  })
})

describe('checkInputText: multi-line inputs keep their lines, refuse a lone CR', () => {
  test.each(MULTI_LINE)('%s: LF and CRLF lines pass, a lone CR does not', (name) => {
    expect(refusal(name, 'A=1\nB=2\r\nC=3\r\n')).toBe('')
    expect(refusal(name, 'A=1\nB=x\r::warning::PWNED')).toBe(
      `Input '${name}' line 2 contains a carriage return (U+000D) that does not end the line (only LF or CRLF line ends are read): remove it, one item or KEY=VALUE per line.`
    )
    expect(refusal(name, 'A=\u0000')).toBe(
      `Input '${name}' line 1 contains the control character U+0000: remove it, one item or KEY=VALUE per line.`
    )
  })

  it('keeps tabs inside a value', () => {
    expect(refusal('build-args', 'A=a\tb')).toBe('')
  })
})
