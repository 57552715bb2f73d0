/**
 * Stand-ins for the action's inputs: raw input text as `core.getInput` returns it, and a
 * throw-away workspace (GITHUB_WORKSPACE) holding the files the inputs name.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { INPUT_NAMES, type RawInputs } from '../src/inputs.js'

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
