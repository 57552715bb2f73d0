// Types of bench/logs.mjs (plain JavaScript, run without a build step); the unit tests and the
// integration world import it through these.

/** One entry of the fault proxy's `GET /__faults/log`. */
export interface ProxyLogEntry {
  time: string
  operation: string
  ms: number
  held: boolean
  [field: string]: unknown
}
export interface AwsCall extends ProxyLogEntry {
  start: number
  end: number
}
export interface DockerCall {
  start: number
  end: number
  rc: number
  command: string
}
export interface RegistryRequest {
  start: number
  end: number
  method: string | undefined
  uri: string
  status: number
  /** Made by docker (its user agent), not by the action itself. */
  docker: boolean
}
export interface RegistryCounts {
  blobUploads: number
  blobMounts: number
  manifestPuts: number
}

/** A registry request that PUTs an image manifest. */
export declare function isManifestPut(request: RegistryRequest): boolean
export declare function goDurationMs(text: string): number
export declare function parseProxyLog(entries: readonly ProxyLogEntry[]): AwsCall[]
export declare function parseDockerLog(text: string): DockerCall[]
export declare function dockerCommand(a1: string, a2?: string): string
export declare function parseRegistryLog(text: string): RegistryRequest[]
export declare function registryCounts(requests: readonly RegistryRequest[]): RegistryCounts
export declare function summaryPhases(summary: string): Record<string, number>
export declare function buildLogFigures(stdout: string): { cached: number; steps: number }
