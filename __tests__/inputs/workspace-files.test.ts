/** workspace-files.ts: the checkout root, existing files, paths inside a directory, zip packages. */
import { describe, expect, it } from '@jest/globals'
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { createZipArchive, EMPTY_ZIP, inputError, useWorkspace } from '../../__fixtures__/inputs.js'
import {
  checkZipArchive,
  existingFile,
  isDirectory,
  isFile,
  isInside,
  realPathOutside,
  workspaceRoot
} from '../../src/inputs/workspace-files.js'

const ws = useWorkspace()

describe('workspaceRoot', () => {
  it('is GITHUB_WORKSPACE, else the working directory', () => {
    expect(workspaceRoot({ GITHUB_WORKSPACE: ws.root })).toBe(ws.root)
    expect(workspaceRoot({})).toBe(resolve(process.cwd()))
  })
})

describe('existingFile', () => {
  it('gives the absolute path of a file, relative or absolute', () => {
    const path = join(ws.root, 'service/Dockerfile')
    expect(existingFile(ws.root, 'dockerfile', 'service/Dockerfile')).toBe(path)
    expect(existingFile(ws.root, 'dockerfile', path)).toBe(path)
  })

  it('refuses a missing path and a directory, naming the input', () => {
    expect(inputError(() => existingFile(ws.root, 'template', 'nope.yaml'))).toBe(
      `Input 'template': nope.yaml does not exist (resolved to ${join(ws.root, 'nope.yaml')}); give a path relative to the repository root.`
    )
    expect(inputError(() => existingFile(ws.root, 'template', 'service'))).toBe(
      "Input 'template': service is a directory; give the path of a file."
    )
  })
})

describe('isDirectory, isFile, isInside, realPathOutside', () => {
  it('tells files from directories and from nothing', () => {
    expect([isDirectory(join(ws.root, 'service')), isFile(join(ws.root, 'service'))]).toEqual([
      true,
      false
    ])
    const file = join(ws.root, 'service/bootstrap')
    expect([isDirectory(file), isFile(file)]).toEqual([false, true])
    const none = join(ws.root, 'none')
    expect([isDirectory(none), isFile(none)]).toEqual([false, false])
  })

  it.each([
    ['/a/b', '/a/b', true],
    ['/a/b', '/a/b/c/d', true],
    ['/a/b', '/a/bc', false],
    ['/a/b', '/a', false],
    ['/a/b', '/a/b/../c', false]
  ])('isInside(%s, %s) is %s', (parent, child, expected) => {
    expect(isInside(parent, child)).toBe(expected)
  })

  it('follows symlinks out of the root', () => {
    mkdirSync(join(ws.root, 'inner'))
    symlinkSync('..', join(ws.root, 'escape'))
    expect(realPathOutside(ws.root, join(ws.root, 'inner'))).toBeUndefined()
    expect(realPathOutside(ws.root, join(ws.root, 'escape'))).toEqual({
      root: realpathSync(ws.root),
      path: realpathSync(dirname(ws.root))
    })
  })
})

describe('checkZipArchive', () => {
  it('accepts an archive with files and an empty one', () => {
    const full = ws.write('full.zip', createZipArchive({ bootstrap: 'x' }))
    const empty = ws.write('empty.zip', EMPTY_ZIP)
    expect(() => checkZipArchive(full, 'full.zip')).not.toThrow()
    expect(() => checkZipArchive(empty, 'empty.zip')).not.toThrow()
  })

  it('refuses another file, showing the path as given', () => {
    const path = ws.write('build/app.tar.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00]))
    expect(inputError(() => checkZipArchive(path, 'build/app.tar.gz'))).toBe(
      "Input 'code-archive': build/app.tar.gz is not a zip file: give the .zip package Lambda runs (e.g. made with 'zip -r function.zip bootstrap')."
    )
  })
})
