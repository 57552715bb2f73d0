import { describe, expect, it } from '@jest/globals'
import { parseKeyValueLines, parseList, parsePositiveInt } from '../../src/rules/parse.js'

describe('parseKeyValueLines', () => {
  it('keeps everything after the first = exactly', () => {
    expect(parseKeyValueLines('A=1,2=3 "x"\n\n# c\nB= spaced ', 'build-args')).toEqual([
      { key: 'A', value: '1,2=3 "x"', line: 1 },
      { key: 'B', value: ' spaced ', line: 4 }
    ])
  })
  it.each([
    ['NOEQUALS', "Input 'tags' line 1 (\"NOEQUALS\") has no '='"],
    ['=v', "Input 'tags' line 1 has an empty key"],
    ['A=1\nA=2', "Input 'tags' sets 'A' twice (lines 1 and 2)"]
  ])('rejects %j', (text, message) => {
    expect(() => parseKeyValueLines(text, 'tags')).toThrow(message)
  })
})

describe('parseKeyValueLines and secrets', () => {
  it('does not quote a parameter-overrides line, which may be the rest of a secret value', () => {
    expect(() =>
      parseKeyValueLines('DbPassword=first part\nsecond part', 'parameter-overrides')
    ).toThrow(
      new Error("Input 'parameter-overrides' line 2 has no '=': write one KEY=VALUE per line.")
    )
  })
})

describe('parseList and parsePositiveInt', () => {
  it('splits on commas and newlines', () => {
    expect(parseList('a, b\nc,,')).toEqual(['a', 'b', 'c'])
  })
  it.each(['0', '-1', 'abc', '1.5', '400'])('rejects timeout %j', (text) => {
    expect(() => parsePositiveInt(text, 'timeout-minutes', 355)).toThrow(
      "Input 'timeout-minutes' must be a whole number between 1 and 355"
    )
  })
  it('accepts 42', () => expect(parsePositiveInt(' 42 ', 'timeout-minutes', 355)).toBe(42))
})

describe('parseKeyValueLines edge cases', () => {
  it('reads CRLF line endings without keeping the \\r', () => {
    expect(parseKeyValueLines('A=1\r\nB=2\r\n', 'tags')).toEqual([
      { key: 'A', value: '1', line: 1 },
      { key: 'B', value: '2', line: 2 }
    ])
  })
  it('trims the key, skips indented comments and reads an empty value', () => {
    expect(parseKeyValueLines('  # note\n  KEY  =\n', 'build-args')).toEqual([
      { key: 'KEY', value: '', line: 2 }
    ])
  })
  it('returns nothing for empty text', () => {
    expect(parseKeyValueLines('', 'tags')).toEqual([])
  })
  it('quotes the offending line, trimmed, in the message', () => {
    expect(() => parseKeyValueLines('A=1\n  oops  ', 'build-args')).toThrow(
      "Input 'build-args' line 2 (\"oops\") has no '=': write one KEY=VALUE per line."
    )
  })
})

describe('parsePositiveInt bounds', () => {
  it.each([
    ['1', 1],
    ['355', 355],
    ['007', 7]
  ])('accepts %j as %d', (text, value) => {
    expect(parsePositiveInt(text, 'timeout-minutes', 355)).toBe(value)
  })
  it.each(['', ' ', '+5', '1e2', '356'])('rejects %j with the exact sentence', (text) => {
    expect(() => parsePositiveInt(text, 'timeout-minutes', 355)).toThrow(
      `Input 'timeout-minutes' must be a whole number between 1 and 355, got '${text}'.`
    )
  })
})

describe('parseList edge cases', () => {
  it.each([
    ['', []],
    ['CAPABILITY_IAM', ['CAPABILITY_IAM']],
    [' A ,\r\n B \n', ['A', 'B']]
  ])('splits %j into %j', (text, items) => {
    expect(parseList(text)).toEqual(items)
  })
})
