/** What the deploy flow and its steps (preflight, the image or zip artifact) work with. */
import type { AwsClients } from './aws-clients.js'
import type { WaitOptions } from './cloudformation/index.js'
import type { RegistryLogin, Runner } from './docker.js'
import type { Inputs } from './inputs.js'
import type { Phases } from './phases.js'
import type { ManifestInfo } from './registry.js'
import type { OutputSink } from './report.js'
import type { Session } from './session.js'

/** What the flow works with. */
export interface FlowContext {
  inputs: Inputs
  aws: AwsClients
  runner: Runner
  wait: WaitOptions
  phases: Phases
  session: Session
  /** Reads a manifest from the registry (the push skip and the Lambda manifest check). */
  getManifest: ManifestReader
  /** Sets each step output as soon as it is known, so a failed run still leaves them. */
  sink: OutputSink
}

/** `getManifest` from registry.ts, or a stand-in in tests. */
export type ManifestReader = (
  login: RegistryLogin,
  repository: string,
  reference: string
) => Promise<ManifestInfo | undefined>
