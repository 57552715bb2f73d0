/**
 * Stand-ins for the action's inputs: raw input text as `core.getInput` returns it, and a
 * throw-away workspace (GITHUB_WORKSPACE) holding the files the inputs name.
 */
import { afterEach, beforeEach } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { InputError } from '../src/base/errors.js'
import { parseInputs, type Inputs } from '../src/inputs/inputs.js'
import { INPUT_NAMES, type RawInputs } from '../src/inputs/raw.js'

/** A template fixture's bytes, from `__fixtures__/templates/`. */
export function readTemplateFixture(name: string): Buffer {
  return readFileSync(new URL(`./templates/${name}`, import.meta.url))
}

/** Raw inputs for a valid deploy of the workspace's service; `overrides` replace single inputs. */
export function createRawInputs(overrides: Partial<RawInputs> = {}): RawInputs {
  const raw = Object.fromEntries(INPUT_NAMES.map((name) => [name, ''])) as RawInputs
  return {
    ...raw,
    dockerfile: 'service/Dockerfile',
    bucket: 'my-artifacts',
    'stack-name': 'hello-service',
    template: 'service/template.yaml',
    region: 'eu-west-1',
    ...overrides
  }
}

/** The message of the InputError `action` throws; any other outcome fails the test. */
export function inputError(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    if (error instanceof InputError) return error.message
    throw error
  }
  throw new Error('the inputs were accepted')
}

/** Parsing in a workspace: `parse` checks valid raw inputs with `overrides`, `failure` its error. */
export interface InputsParser {
  parse(overrides?: Partial<RawInputs>, env?: NodeJS.ProcessEnv): Inputs
  failure(overrides: Partial<RawInputs>, env?: NodeJS.ProcessEnv): string
}

/** `parseInputs` against `workspace` (the running test's, as `useWorkspace()` gives it). */
export function inputsParser(workspace: Workspace): InputsParser {
  const parse = (overrides: Partial<RawInputs> = {}, env = workspace.env): Inputs =>
    parseInputs(createRawInputs(overrides), env)
  return { parse, failure: (overrides, env) => inputError(() => parse(overrides, env)) }
}

/** A temporary checkout; `env` points GITHUB_WORKSPACE at it. */
export interface Workspace {
  root: string
  env: NodeJS.ProcessEnv
  /** Writes a file (creating its directories) and returns its absolute path. */
  write(path: string, content: string | Buffer): string
  /** Deletes the whole directory. */
  remove(): void
}

/** SHA used as GITHUB_SHA in `Workspace.env`. */
export const WORKSPACE_SHA = '0123456789abcdef0123456789abcdef01234567'

/**
 * Creates a workspace holding `service/Dockerfile`, `service/bootstrap` (the binary),
 * `service/template.yaml` (the `service.yaml` fixture), and parameter files
 * `params/object.json` and `params/array.json`.
 */
export function createWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'oci-stack-deploy-inputs-'))
  const write = (path: string, content: string | Buffer): string => {
    const absolute = join(root, path)
    mkdirSync(dirname(absolute), { recursive: true })
    writeFileSync(absolute, content)
    return absolute
  }
  write('service/Dockerfile', 'FROM scratch\nLABEL io.sparta.ecr-name=spartaoci\n')
  write('service/bootstrap', Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
  write('service/template.yaml', readTemplateFixture('service.yaml'))
  write('params/object.json', JSON.stringify({ Stage: 'prod', DbPassword: 's3cret' }))
  write(
    'params/array.json',
    JSON.stringify([
      { ParameterKey: 'Stage', ParameterValue: 'test' },
      { ParameterKey: 'DbPassword', ParameterValue: 'hunter2' }
    ])
  )
  return {
    root,
    env: { GITHUB_WORKSPACE: root, GITHUB_SHA: WORKSPACE_SHA },
    write,
    remove: () => rmSync(root, { recursive: true, force: true })
  }
}

/**
 * Registers hooks that give each test a fresh workspace (`createWorkspace()`) and remove it after
 * the test. The workspace returned stands for the running test's: read it inside tests only.
 */
export function useWorkspace(): Workspace {
  let current: Workspace | undefined
  beforeEach(() => {
    current = createWorkspace()
  })
  afterEach(() => {
    current?.remove()
    current = undefined
  })
  const now = (): Workspace => {
    if (current === undefined) throw new Error('the workspace exists only while a test runs')
    return current
  }
  return {
    get root() {
      return now().root
    },
    get env() {
      return now().env
    },
    write: (path, content) => now().write(path, content),
    remove: () => now().remove()
  }
}

/** The smallest valid zip: an empty archive, only the end-of-central-directory record. */
export const EMPTY_ZIP = Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'), Buffer.alloc(18)])

/** A zip-package Lambda template: declares Sparta's zip parameters, no `CodeImageURI`. */
export const ZIP_SERVICE_TEMPLATE = `Parameters:
  CodeArtifactS3Key:
    Type: String
  CodeArtifactS3ObjectVersion:
    Type: String
    Default: ''
  Stage:
    Type: String
    Default: dev
Resources:
  Function:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Zip
      Runtime: provided.al2023
      Handler: bootstrap
      Role: arn:aws:iam::123456789012:role/lambda
      Code:
        S3Bucket: my-artifacts
        S3Key: !Ref CodeArtifactS3Key
`

/** Raw inputs of a zip package deploy: the package and template `useZipPackage` writes. */
export const ZIP_INPUTS: Partial<RawInputs> = {
  dockerfile: '',
  'code-archive': 'build/function.zip',
  template: 'service/zip.yaml'
}

/** What the inputs say when a Dockerfile and a zip package are both given. */
export const DOCKERFILE_AND_ZIP_MESSAGE =
  "Inputs 'dockerfile' and 'code-archive' are both set: an image is built from a Dockerfile, a zip package is uploaded as it is; give only one of them (Sparta likewise refuses ZIP archive hooks with a dockerFile)."

/**
 * Registers a beforeEach that writes a zip package (`build/function.zip`, holding a bootstrap) and
 * its template (`service/zip.yaml`, ZIP_SERVICE_TEMPLATE) into `workspace`.
 */
export function useZipPackage(workspace: Workspace): void {
  beforeEach(() => {
    workspace.write('service/zip.yaml', ZIP_SERVICE_TEMPLATE)
    workspace.write(
      'build/function.zip',
      createZipArchive({ bootstrap: '#!/bin/sh\necho hello\n' })
    )
  })
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(data: Buffer): number {
  let crc = 0xffffffff
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** A real zip archive holding `files` stored uncompressed, as `zip -0` writes it. */
export function createZipArchive(files: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content)
    const fileName = Buffer.from(name, 'utf8')
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(10, 4) // version needed: 1.0 (stored)
    local.writeUInt16LE(0x21, 12) // date: 1980-01-01
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(fileName.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(0x0314, 4) // made by: unix, 2.0
    central.writeUInt16LE(10, 6)
    central.writeUInt16LE(0x21, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(fileName.length, 28)
    central.writeUInt32LE((0o100755 << 16) >>> 0, 38) // regular file, rwxr-xr-x
    central.writeUInt32LE(offset, 42)
    locals.push(local, fileName, data)
    centrals.push(central, fileName)
    offset += local.length + fileName.length + data.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(Object.keys(files).length, 8)
  end.writeUInt16LE(Object.keys(files).length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}
