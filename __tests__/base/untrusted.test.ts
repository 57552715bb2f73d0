/** untrusted.ts: no text the action echoes can start a workflow command; errors show values cut. */
import { describe, expect, it, test } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { HOSTILE_ROWS, injectedCommands } from '../../__fixtures__/untrusted.js'
import {
  cut,
  forError,
  hideUserInfo,
  MAX_LINE_CHARS,
  oneLine,
  plain,
  rememberSecret,
  shown
} from '../../src/base/untrusted.js'

describe('every way of printing is harmless for every hostile text', () => {
  test.each(HOSTILE_ROWS)('%s', (_name, hostile) => {
    for (const print of [plain, oneLine, shown, forError]) {
      const printed = print(hostile)
      expect(injectedCommands(printed)).toEqual([])
      expect(injectedCommands(`${printed}\n`)).toEqual([])
      // Shown, not dropped: a person can still read what came in.
      expect(printed).toMatch(/PWNED|token/)
    }
  })
})

describe('plain', () => {
  it.each([
    ['one\ntwo', 'one\ntwo'],
    ['crlf\r\nends', 'crlf\nends'],
    ["docker's\r\r\nends", "docker's\nends"],
    ['trailing cr\r', 'trailing cr'],
    ['lone\rcr', 'lone␍cr'],
    ['esc \u001b[31m', 'esc ␛[31m'],
    ['nul \u0000 del \u007f', 'nul ␀ del ␡'],
    ['nel \u0085 ls \u2028', 'nel \\u0085 ls \\u2028'],
    ['tab\tkept', 'tab\tkept'],
    ['::warning::x', '\\::warning::x'],
    ['a\n  ::error::x', 'a\n  \\::error::x'],
    ['mid :: line', 'mid :: line'],
    ['old ##[error]x', 'old ##\\[error]x']
  ])('%j → %j', (text, expected) => {
    expect(plain(text)).toBe(expected)
  })
})

describe('oneLine', () => {
  it('shows line ends as pictures, so an argument stays on its line', () => {
    expect(oneLine('app\n::warning::x\r\n')).toBe('app␊::warning::x␍␊')
  })
})

describe('cut, shown and forError', () => {
  it('cuts a value to 200 characters with …', () => {
    expect(cut('a'.repeat(200))).toBe('a'.repeat(200))
    expect(cut('a'.repeat(100_000))).toBe(`${'a'.repeat(200)}…`)
    expect(shown(`x\n${'a'.repeat(100_000)}`)).toBe(`x␊${'a'.repeat(198)}…`)
  })

  it('cuts every long word and every long line of an error', () => {
    const long = 'a'.repeat(100_000)
    expect(forError(`Input 'target' got '${long}'.`)).toBe(
      `Input 'target' got '${'a'.repeat(199)}…`
    )
    const words = Array.from({ length: 50_000 }, () => 'ab').join(' ')
    const line = forError(`first\n${words}`).split('\n')[1] ?? ''
    expect(line).toHaveLength(MAX_LINE_CHARS + 1)
    expect(line.endsWith('…')).toBe(true)
  })
})

describe('secrets in errors', () => {
  it('hides a masked value before cutting, so no prefix of a long secret is left unmasked', () => {
    const secret = `eyJ${'k'.repeat(1500)}`
    rememberSecret(secret)
    expect(forError(`login failed for token ${secret}x`)).toBe('login failed for token ***x')
  })
})

describe('hideUserInfo', () => {
  it.each([
    ['http://user:pass@proxy:3128', 'http://***@proxy:3128'],
    ['http://user@proxy:3128/', 'http://***@proxy:3128/'],
    ['https://u:p@ss@proxy:3128', 'https://***@proxy:3128'],
    ['http://u:p/ss@proxy', 'http://***@proxy'],
    ['http://u:p ss word@proxy:port', 'http://***@proxy:port'],
    ['user:pass@proxy:3128', '***@proxy:3128'],
    ['http://proxy:3128', 'http://proxy:3128'],
    ['not a url', 'not a url']
  ])('%s → %s', (url, expected) => {
    expect(hideUserInfo(url)).toBe(expected)
  })
})

describe('the one writer of the log', () => {
  const SRC = join(process.cwd(), 'src')
  const files = (readdirSync(SRC, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(SRC, f))
  /** `file:line` of every line of src/ matching `pattern`, comments aside. */
  const uses = (pattern: RegExp): string[] =>
    files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(SRC, file)}:${i + 1}` }))
        .filter(({ line }) => pattern.test(line) && !/^\s*(\*|\/\/)/.test(line))
        .map(({ at }) => at.split(':')[0] ?? '')
    )

  it('is base/log.ts: nothing else writes to the log or to stdout', () => {
    const writers = uses(
      /\bcore\.(info|warning|error|notice|debug|group|startGroup|setSecret)\(|console\.|process\.(stdout|stderr)\.write/
    )
    expect([...new Set(writers)]).toEqual(['base/log.ts'])
  })

  it('fails the step in main.ts alone, through forError', () => {
    expect(uses(/core\.setFailed\(/)).toEqual(['main.ts'])
    const main = readFileSync(join(SRC, 'main.ts'), 'utf8')
    expect(main).toContain('core.setFailed(forError(')
  })
})
