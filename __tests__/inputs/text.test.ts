/** input-text.ts: one raw input read as trimmed text, a required value, a flag or a list. */
import { describe, expect, it } from '@jest/globals'
import { createRawInputs, inputError } from '../../__fixtures__/inputs.js'
import { flag, list, required, text } from '../../src/inputs/text.js'

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
