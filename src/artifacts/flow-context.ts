/** What the deploy flow and its steps (preflight, the image or zip artifact) work with. */
import type { AwsClients } from '../aws/clients.js'
import type { WaitOptions } from '../aws/cloudformation/wait.js'
import type { KnownStack } from '../aws/cloudformation/types.js'
import type { RegistryLogin } from '../base/registry-login.js'
import type { Runner } from '../docker/runner.js'
import type { Inputs } from '../inputs/inputs.js'
import type { Phases } from '../base/phases.js'
import type { ManifestInfo } from '../registry/manifests.js'
import type { RegistryHttp } from '../registry/http.js'
import type { OutputSink } from '../report/output-sink.js'
import type { Session } from '../base/session.js'
import { DeployError } from '../base/errors.js'
import type { BucketState } from '../aws/s3.js'

/** What the flow works with in one region. */
export interface FlowContext {
  /** The inputs as this region sees them: its `region`, its `bucket` (`{region}` replaced). */
  inputs: Inputs
  /** The clients of this region. */
  aws: AwsClients
  runner: Runner
  wait: WaitOptions
  phases: Phases
  session: Session
  /** Reads a manifest from the registry (the push skip and the Lambda manifest check). */
  getManifest: ManifestReader
  /** The registry HTTP API's transport (copies between registries, an image given as input). */
  registryHttp: RegistryHttp
  /** Sets each step output as soon as it is known, so a failed run still leaves them. */
  sink: OutputSink
}

/** The whole run: the first region's context, and the clients of any region. */
export interface DeployContext extends FlowContext {
  /** The clients of a region (made once per region). */
  clients: (region: string) => AwsClients
}

/** `getManifest` from registry/manifests.ts, or a stand-in in tests. */
export type ManifestReader = (
  login: RegistryLogin,
  repository: string,
  reference: string
) => Promise<ManifestInfo | undefined>

/** What preflight found. */
export interface Preflight {
  accountId: string
  /** Undefined in a noop run without credentials: nothing in AWS was read. */
  bucket?: BucketState
  stackStatus?: string
  /** The stack as preflight read it, and when: the change set reuses a read this recent. */
  stackRead?: KnownStack
  /** The image the stack runs now (its image parameter): where the build cache lives. */
  previousImage?: string
}

/** The checked bucket; only a noop run without credentials has none, and it uploads nothing. */
export function requireBucket(preflight: Preflight): BucketState {
  if (preflight.bucket === undefined) throw new DeployError('The bucket was not checked.')
  return preflight.bucket
}
