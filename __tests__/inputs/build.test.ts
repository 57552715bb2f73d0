/**
 * build-inputs.ts: the Dockerfile or the zip package, the build context, the binary, the label
 * name, build args, the build id and image tags, as parseInputs reads them.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  createRawInputs,
  DOCKERFILE_AND_ZIP_MESSAGE,
  EMPTY_ZIP,
  inputsParser,
  useWorkspace,
  useZipPackage,
  ZIP_INPUTS
} from '../../__fixtures__/inputs.js'
import { SPARTA_BUILD_ARGS } from '../../src/inputs/build.js'
import { parseInputs } from '../../src/inputs/inputs.js'

const ws = useWorkspace()

const { parse, failure } = inputsParser(ws)

describe('dockerfile', () => {
  it('refuses a Dockerfile that does not exist', () => {
    expect(failure({ dockerfile: 'nope/Dockerfile' })).toBe(
      `Input 'dockerfile': nope/Dockerfile does not exist (resolved to ${join(ws.root, 'nope/Dockerfile')}); give a path relative to the repository root.`
    )
  })

  it('refuses a Dockerfile that is a directory', () => {
    expect(failure({ dockerfile: 'service' })).toBe(
      "Input 'dockerfile': service is a directory; give the path of a file."
    )
  })
})

describe('context', () => {
  it('accepts a context directory inside the workspace', () => {
    expect(parse({ context: '.', dockerfile: 'service/Dockerfile' }).context).toBe(ws.root)
  })

  it.each(['service/Dockerfile', 'no-such-dir'])('refuses %j: not a directory', (context) => {
    expect(failure({ context })).toBe(
      `Input 'context': ${context} is not a directory; give the build context directory (default: the Dockerfile's directory).`
    )
  })

  it('refuses a context that leaves the workspace through a symlink to ..', () => {
    symlinkSync('..', join(ws.root, 'escape'))
    const outside = realpathSync(dirname(ws.root))
    expect(failure({ context: 'escape' })).toBe(
      `Input 'context' (escape) resolves to ${outside}, outside the repository ${realpathSync(ws.root)}: keep the build context inside the checkout.`
    )
  })

  it('refuses a context given as ../', () => {
    expect(failure({ context: '../' })).toContain(
      `outside the repository ${realpathSync(ws.root)}: keep the build context inside the checkout.`
    )
  })
})

describe('binary', () => {
  it('gives SPARTA_BINARY relative to the context', () => {
    ws.write('service/bin/app', 'x')
    expect(parse({ binary: 'bootstrap' }).binary).toBe('bootstrap')
    expect(parse({ binary: './bin/../bin/app' }).binary).toBe('bin/app')
    expect(parse({ binary: 'service/bin/app', context: '.' }).binary).toBe('service/bin/app')
  })

  it.each(['missing-bin', 'bin'])('refuses %j: not a file in the context', (binary) => {
    mkdirSync(join(ws.root, 'service/bin'))
    expect(failure({ binary })).toBe(
      `Input 'binary': ${binary} is not a file in the build context ${join(ws.root, 'service')}; the path is relative to the context (it becomes SPARTA_BINARY).`
    )
  })

  it('refuses a binary outside the context', () => {
    ws.write('outside.bin', 'x')
    expect(failure({ binary: '../outside.bin' })).toBe(
      `Input 'binary': ../outside.bin is outside the build context ${join(ws.root, 'service')}; docker can only COPY files inside it.`
    )
  })
})

describe('label-name and build-id', () => {
  it('accepts a custom label name', () => {
    expect(parse({ 'label-name': 'com.example/ecr-repo' }).labelName).toBe('com.example/ecr-repo')
  })

  it.each(['bad label', '.hidden', 'a=b'])('refuses the label name %j', (label) => {
    expect(failure({ 'label-name': label })).toBe(
      `Input 'label-name' ('${label}') is not a valid label key: use letters, digits, '.', '-', '_' and '/', e.g. io.sparta.ecr-name.`
    )
  })

  it('keeps the build id and derives a docker tag from it', () => {
    const inputs = parse({ 'build-id': 'feature/login#2' })
    expect(inputs.buildId).toBe('feature/login#2')
    expect(inputs.buildTag).toBe('feature-login-2')
  })

  it('refuses an empty build id when GITHUB_SHA is not set', () => {
    expect(failure({ 'build-id': '' }, { GITHUB_WORKSPACE: ws.root })).toBe(
      "Input 'build-id' is empty and GITHUB_SHA is not set: give a build id such as the commit SHA."
    )
  })

  it('refuses a build id with nothing to make a tag from', () => {
    expect(failure({ 'build-id': '...' })).toBe(
      "Input 'build-id' ('...') has no letters or digits to make a docker tag from: use e.g. the commit SHA."
    )
  })
})

describe('build-args', () => {
  it('keeps the pairs in order with their values exact', () => {
    expect(parse({ 'build-args': 'GOFLAGS=-mod=vendor -trimpath\n\nEMPTY=\n' }).buildArgs).toEqual([
      { key: 'GOFLAGS', value: '-mod=vendor -trimpath', line: 1 },
      { key: 'EMPTY', value: '', line: 3 }
    ])
  })

  it.each(SPARTA_BUILD_ARGS)('refuses %s, which the action sets itself', (arg) => {
    expect(failure({ 'build-args': `OK=1\n${arg}=x` })).toBe(
      `Input 'build-args' sets ${arg}, which the action sets itself (AWS_ACCOUNT_ID, AWS_REGION, SPARTA_BINARY, SPARTA_ECR_LABEL_NAME, SPARTA_BUILD_ID): remove that line.`
    )
  })

  it('refuses a line without =', () => {
    expect(failure({ 'build-args': 'JUSTAKEY' })).toBe(
      "Input 'build-args' line 1 (\"JUSTAKEY\") has no '=': write one KEY=VALUE per line."
    )
  })

  it('keeps commas, further =, spaces and quotes exactly', () => {
    const inputs = parseInputs(
      createRawInputs({ 'build-args': `LIST=a,b,c\nEQ=x=y==\nQUOTED="hello world" 'x'` }),
      ws.env
    )
    expect(inputs.buildArgs.map((a) => [a.key, a.value])).toEqual([
      ['LIST', 'a,b,c'],
      ['EQ', 'x=y=='],
      ['QUOTED', `"hello world" 'x'`]
    ])
  })

  it('refuses a value continued on the next line, even when that line holds an =', () => {
    expect(() =>
      parseInputs(
        createRawInputs({ 'build-args': 'CERT=line one\nstill the cert=base64==' }),
        ws.env
      )
    ).toThrow(
      "Input 'build-args' line 2: 'still the cert' is not a build arg name (letters, digits, '_'); a value cannot continue on the next line: put each KEY=VALUE on one line."
    )
  })
})

describe('code-archive', () => {
  const notZip = (shown: string): string =>
    `Input 'code-archive': ${shown} is not a zip file: give the .zip package Lambda runs (e.g. made with 'zip -r function.zip bootstrap').`

  useZipPackage(ws)

  it('takes a zip package instead of a Dockerfile', () => {
    const inputs = parse(ZIP_INPUTS)
    expect(inputs).toMatchObject({
      mode: 'deploy',
      codeArchive: join(ws.root, 'build/function.zip'),
      dockerfile: '',
      context: '',
      binary: '',
      buildArgs: [],
      archiveKeyParameter: 'CodeArtifactS3Key',
      archiveVersionParameter: 'CodeArtifactS3ObjectVersion',
      bucket: 'my-artifacts',
      stackName: 'hello-service'
    })
    expect(inputs.template.path).toBe(join(ws.root, 'service/zip.yaml'))
  })

  it('accepts an empty zip archive', () => {
    ws.write('build/empty.zip', EMPTY_ZIP)
    expect(parse({ ...ZIP_INPUTS, 'code-archive': 'build/empty.zip' }).codeArchive).toBe(
      join(ws.root, 'build/empty.zip')
    )
  })

  it('accepts an absolute path', () => {
    const path = join(ws.root, 'build/function.zip')
    expect(parse({ ...ZIP_INPUTS, 'code-archive': ` ${path} ` }).codeArchive).toBe(path)
  })

  it('refuses a Dockerfile and a zip package together', () => {
    expect(failure({ ...ZIP_INPUTS, dockerfile: 'service/Dockerfile' })).toBe(
      DOCKERFILE_AND_ZIP_MESSAGE
    )
  })

  it.each<[string, string | Buffer]>([
    ['text', 'not a zip at all'],
    ['a gzip file', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0])],
    ['an empty file', ''],
    ['a file shorter than the signature', 'PK'],
    ['a spanned-archive marker', Buffer.from('PK\x07\x08rest', 'latin1')]
  ])('refuses %s', (_, content) => {
    ws.write('build/function.zip', content)
    expect(failure(ZIP_INPUTS)).toBe(notZip('build/function.zip'))
  })

  it('refuses a package that does not exist', () => {
    expect(failure({ ...ZIP_INPUTS, 'code-archive': 'build/missing.zip' })).toBe(
      `Input 'code-archive': build/missing.zip does not exist (resolved to ${join(ws.root, 'build/missing.zip')}); give a path relative to the repository root.`
    )
  })

  it('refuses a directory', () => {
    expect(failure({ ...ZIP_INPUTS, 'code-archive': 'build' })).toBe(
      "Input 'code-archive': build is a directory; give the path of a file."
    )
  })
})

describe('image-tags', () => {
  it('reads comma- and newline-separated image tags', () => {
    expect(parse({ 'image-tags': 'v1.2.3, latest\nstable_2\n\n' }).imageTags).toEqual([
      'v1.2.3',
      'latest',
      'stable_2'
    ])
    expect(parse().imageTags).toEqual([])
  })

  it.each(['-rc1', '.hidden', 'v1 2', 'release/7', 'a:b', 't'.repeat(129)])(
    'refuses the image tag %s',
    (tag) => {
      expect(failure({ 'image-tags': `v1, ${tag}` })).toBe(
        `Input 'image-tags' has '${tag}', which is not a docker tag: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'.`
      )
    }
  )

  it('accepts a 128-character image tag', () => {
    expect(parse({ 'image-tags': 't'.repeat(128) }).imageTags).toEqual(['t'.repeat(128)])
  })
})

describe('build-cache', () => {
  it('defaults to auto when empty', () => {
    expect(parse().buildCache).toBe('auto')
  })

  it.each(['auto', 'registry', 'inline', 'off'])('accepts %s', (mode) => {
    expect(parse({ 'build-cache': ` ${mode} ` }).buildCache).toBe(mode)
  })

  it('refuses anything else, naming the input and the choices', () => {
    expect(failure({ 'build-cache': 'local' })).toBe(
      "Input 'build-cache' must be one of auto, registry, inline, off, got 'local'."
    )
  })
})
