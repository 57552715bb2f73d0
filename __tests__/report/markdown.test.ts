import { describe, expect, it } from '@jest/globals'
import {
  escapeCell,
  escapeHtml,
  escapeMarkdownText,
  fence,
  htmlLinkOrCode,
  htmlTable,
  linkDestination,
  markdownCode,
  markdownTable,
  textCell
} from '../../src/report/markdown.js'
import { changesMarkdown } from '../../src/report/report.js'

describe('escapeHtml', () => {
  it('escapes &, <, > and "', () => {
    expect(escapeHtml('a & <b> "c"')).toBe('a &amp; &lt;b&gt; &quot;c&quot;')
  })
})

describe('htmlTable', () => {
  it('closes every cell, empty ones included (core.summary.addTable leaves <td> open)', () => {
    expect(htmlTable(['Key', 'Description'], [['<code>dev</code>', '']])).toBe(
      '<table><tr><th>Key</th><th>Description</th></tr><tr><td><code>dev</code></td><td></td></tr></table>'
    )
  })

  it('escapes the header text', () => {
    expect(htmlTable(['<Key>'], [])).toBe('<table><tr><th>&lt;Key&gt;</th></tr></table>')
  })
})

describe('htmlLinkOrCode', () => {
  it('links http(s) values and escapes them in the href too', () => {
    expect(htmlLinkOrCode('https://x.test/"a')).toBe(
      '<a href="https://x.test/&quot;a">https://x.test/&quot;a</a>'
    )
    expect(htmlLinkOrCode('<b>')).toBe('<code>&lt;b&gt;</code>')
  })
})

describe('one cell rule for every Markdown table', () => {
  it('escapes every pipe and turns every kind of line break into <br>', () => {
    expect(escapeCell('a|b|c\r\nd\ne\rf')).toBe('a\\|b\\|c<br>d<br>e<br>f')
  })

  it('escapes text before it keeps it in the cell: backslashes, emphasis, HTML', () => {
    expect(textCell('C:\\x *y* <b>|\nz')).toBe('C:\\\\x \\*y\\* \\<b\\>\\|<br>z')
    expect(textCell(undefined)).toBe('-')
    expect(textCell('', '(empty)')).toBe('(empty)')
  })

  it('changes-markdown follows it: a multi-line value stays in its cell as <br>', () => {
    expect(
      changesMarkdown([], [{ key: 'Motd', old: 'line 1\nline 2', new: '*bold*' }]).split('\n')[4]
    ).toBe('| Motd | line 1<br>line 2 | \\*bold\\* |')
  })

  it('markdownTable keeps ready Markdown cells (code spans) on their row', () => {
    expect(markdownTable(['Key', 'Value'], [['`a|b`', 'x\ny']])).toBe(
      ['| Key | Value |', '| --- | --- |', '| `a\\|b` | x<br>y |'].join('\n')
    )
  })
})

describe('Markdown building blocks', () => {
  it('escapes the characters that change rendering', () => {
    expect(escapeMarkdownText('*_`[]<>&~#\\')).toBe('\\*\\_\\`\\[\\]\\<\\>\\&\\~\\#\\\\')
  })

  it('makes code spans that survive backticks', () => {
    expect(markdownCode('a`b')).toBe('``a`b``')
    expect(markdownCode('`a')).toBe('`` `a ``')
    expect(markdownCode('')).toBe('(empty)')
  })

  it('fences text longer than any backtick run inside it', () => {
    expect(fence('x ```` y')).toBe('`````text\nx ```` y\n`````')
  })

  it('percent-encodes what would end a link destination', () => {
    expect(linkDestination('https://x.test/a b(c)')).toBe('https://x.test/a%20b%28c%29')
  })
})
