/**
 * inputs/: the typed `Inputs` and one reader per group of inputs; the only code that reads the
 * action's inputs.
 * May import: docker/, template/, rules/, base/.
 *
 * Readers of what is built: a Dockerfile or a zip package, the build context, `SPARTA_BINARY`,
 * the label naming the repository, build args, the build id, the extra image tags and the build
 * cache kept between runs.
 */
import { dirname, relative, resolve, sep } from 'node:path'
import { InputError } from '../base/errors.js'
import { shown } from '../base/untrusted.js'
import { BUILD_CACHE_MODES, type BuildCacheMode } from '../docker/builder.js'
import { isValidTag, sanitizeBuildId } from '../rules/image-ref.js'
import { list, required, text } from './text.js'
import type { RawInputs } from './raw.js'
import { parseKeyValueLines, type KeyValue } from '../rules/parse.js'
import {
  checkZipArchive,
  existingFile,
  isDirectory,
  isFile,
  isInside,
  realPathOutside
} from './workspace-files.js'

/** Build args the action sets itself (Sparta's names). */
export const SPARTA_BUILD_ARGS = [
  'AWS_ACCOUNT_ID',
  'AWS_REGION',
  'SPARTA_BINARY',
  'SPARTA_ECR_LABEL_NAME',
  'SPARTA_BUILD_ID'
] as const

const DEFAULT_LABEL_NAME = 'io.sparta.ecr-name'

/** The artifact's source, as absolute paths: one of the two is set, the other is ''. */
export interface ArtifactSource {
  dockerfile: string
  codeArchive: string
}

/** The docker build inputs; a zip package has none (the label name keeps its default). */
export interface BuildInputs {
  context: string
  binary: string
  labelName: string
  buildArgs: KeyValue[]
}

/**
 * `dockerfile` or `code-archive`: exactly one, an existing file (a zip for `code-archive`); neither
 * when input `image` names an image to deploy (`promoted`; see release.ts).
 */
export function readArtifact(raw: RawInputs, workspace: string, promoted = false): ArtifactSource {
  if (promoted) return { dockerfile: '', codeArchive: '' }
  const archive = text(raw, 'code-archive')
  if (archive === '') {
    const dockerfile = required(raw, 'dockerfile', 'give the path of the Dockerfile to build')
    return { dockerfile: existingFile(workspace, 'dockerfile', dockerfile), codeArchive: '' }
  }
  if (text(raw, 'dockerfile') !== '') {
    throw new InputError(
      `Inputs 'dockerfile' and 'code-archive' are both set: an image is built from a Dockerfile, a zip package is uploaded as it is; give only one of them (Sparta likewise refuses ZIP archive hooks with a dockerFile).`
    )
  }
  const codeArchive = existingFile(workspace, 'code-archive', archive)
  checkZipArchive(codeArchive, archive)
  return { dockerfile: '', codeArchive }
}

/** The docker build inputs: context inside the checkout, binary inside the context, build args. */
export function readBuild(raw: RawInputs, workspace: string, dockerfile: string): BuildInputs {
  if (dockerfile === '') {
    return { context: '', binary: '', labelName: DEFAULT_LABEL_NAME, buildArgs: [] }
  }
  const context = readContext(raw, workspace, dockerfile)
  return {
    context,
    binary: readBinary(raw, context),
    labelName: readLabelName(raw),
    buildArgs: readBuildArgs(raw)
  }
}

/** `context`: a directory inside the checkout, symlinks followed; the Dockerfile's by default. */
function readContext(raw: RawInputs, workspace: string, dockerfile: string): string {
  const given = text(raw, 'context')
  const context = resolve(workspace, given === '' ? dirname(dockerfile) : given)
  if (!isDirectory(context)) {
    throw new InputError(
      `Input 'context': ${given} is not a directory; give the build context directory (default: the Dockerfile's directory).`
    )
  }
  const outside = realPathOutside(workspace, context)
  if (outside !== undefined) {
    throw new InputError(
      `Input 'context' (${given || dirname(dockerfile)}) resolves to ${outside.path}, outside the repository ${outside.root}: keep the build context inside the checkout.`
    )
  }
  return context
}

/** `binary`: a file inside the context, given back relative to it with '/' separators. */
function readBinary(raw: RawInputs, context: string): string {
  const binary = text(raw, 'binary')
  if (binary === '') return ''
  const absolute = resolve(context, binary)
  if (!isFile(absolute)) {
    throw new InputError(
      `Input 'binary': ${binary} is not a file in the build context ${context}; the path is relative to the context (it becomes SPARTA_BINARY).`
    )
  }
  if (!isInside(context, absolute)) {
    throw new InputError(
      `Input 'binary': ${binary} is outside the build context ${context}; docker can only COPY files inside it.`
    )
  }
  return relative(context, absolute).split(sep).join('/')
}

function readLabelName(raw: RawInputs): string {
  const labelName = text(raw, 'label-name') || DEFAULT_LABEL_NAME
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(labelName)) {
    throw new InputError(
      `Input 'label-name' ('${shown(labelName)}') is not a valid label key: use letters, digits, '.', '-', '_' and '/', e.g. io.sparta.ecr-name.`
    )
  }
  return labelName
}

/** `build-args`: KEY=VALUE lines, values kept exactly, none of the names the action sets. */
function readBuildArgs(raw: RawInputs): KeyValue[] {
  const buildArgs = parseKeyValueLines(raw['build-args'], 'build-args')
  for (const arg of buildArgs) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.key)) {
      throw new InputError(
        `Input 'build-args' line ${arg.line}: '${arg.key}' is not a build arg name (letters, digits, '_'); a value cannot continue on the next line: put each KEY=VALUE on one line.`
      )
    }
    if ((SPARTA_BUILD_ARGS as readonly string[]).includes(arg.key)) {
      throw new InputError(
        `Input 'build-args' sets ${arg.key}, which the action sets itself (${SPARTA_BUILD_ARGS.join(', ')}): remove that line.`
      )
    }
  }
  return buildArgs
}

/** `build-id` (else GITHUB_SHA), and the docker tag made from it. */
export function readBuildId(
  raw: RawInputs,
  env: NodeJS.ProcessEnv
): { buildId: string; buildTag: string } {
  const buildId = text(raw, 'build-id') || env['GITHUB_SHA']?.trim() || ''
  if (buildId === '') {
    throw new InputError(
      `Input 'build-id' is empty and GITHUB_SHA is not set: give a build id such as the commit SHA.`
    )
  }
  return { buildId, buildTag: sanitizeBuildId(buildId) }
}

/** `image-tags`: extra docker tags for the same digest. */
export function readImageTags(raw: RawInputs): string[] {
  const imageTags = list(raw, 'image-tags')
  for (const tag of imageTags) {
    if (!isValidTag(tag)) {
      throw new InputError(
        `Input 'image-tags' has '${tag}', which is not a docker tag: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'.`
      )
    }
  }
  return imageTags
}

/** `build-cache`: one of auto (the default when empty), registry, inline, off. */
export function readBuildCache(raw: RawInputs): BuildCacheMode {
  const mode = text(raw, 'build-cache') || 'auto'
  if (!(BUILD_CACHE_MODES as readonly string[]).includes(mode)) {
    throw new InputError(
      `Input 'build-cache' must be one of ${BUILD_CACHE_MODES.join(', ')}, got '${shown(mode)}'.`
    )
  }
  return mode as BuildCacheMode
}
