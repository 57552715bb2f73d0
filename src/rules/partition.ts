/**
 * Pure: which AWS partition a region belongs to, and the names that follow from it (DNS suffix for
 * service hosts, ARN prefix). One home for what used to be `region.startsWith('cn-')` in several
 * modules, which got GovCloud right only by luck and the isolated regions wrong.
 *
 * The region patterns and DNS suffixes are those of the AWS SDK's endpoint rules
 * (`@aws-sdk/core`, `util-endpoints/lib/aws/partitions`); like the SDK, a region that matches no pattern
 * (a new commercial region the table does not know yet) is taken to be in `aws`.
 */

/** The partitions the action knows, as ARNs spell them (`arn:<partition>:…`). */
export type PartitionName =
  'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b' | 'aws-iso-e' | 'aws-iso-f' | 'aws-eusc'

/** A partition: its name and the DNS suffix of its service endpoints. */
export interface Partition {
  name: PartitionName
  /** e.g. `amazonaws.com`, `amazonaws.com.cn`, `c2s.ic.gov`. */
  dnsSuffix: string
}

/** Most specific first: `us-gov-…` and `us-iso…` must not fall into the commercial `us-…`. */
const PARTITIONS: ReadonlyArray<Partition & { regionRegex: RegExp }> = [
  { name: 'aws-us-gov', dnsSuffix: 'amazonaws.com', regionRegex: /^us-gov-\w+-\d+$/ },
  { name: 'aws-iso', dnsSuffix: 'c2s.ic.gov', regionRegex: /^us-iso-\w+-\d+$/ },
  { name: 'aws-iso-b', dnsSuffix: 'sc2s.sgov.gov', regionRegex: /^us-isob-\w+-\d+$/ },
  { name: 'aws-iso-e', dnsSuffix: 'cloud.adc-e.uk', regionRegex: /^eu-isoe-\w+-\d+$/ },
  { name: 'aws-iso-f', dnsSuffix: 'csp.hci.ic.gov', regionRegex: /^us-isof-\w+-\d+$/ },
  { name: 'aws-eusc', dnsSuffix: 'amazonaws.eu', regionRegex: /^eusc-(de)-\w+-\d+$/ },
  { name: 'aws-cn', dnsSuffix: 'amazonaws.com.cn', regionRegex: /^cn-\w+-\d+$/ },
  {
    name: 'aws',
    dnsSuffix: 'amazonaws.com',
    regionRegex: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/
  }
]

const COMMERCIAL: Partition = { name: 'aws', dnsSuffix: 'amazonaws.com' }

/** The partition of `region`; `aws` for a region no pattern knows (as the SDK decides). */
export function partitionOf(region: string): Partition {
  const found = PARTITIONS.find((partition) => partition.regionRegex.test(region))
  return found === undefined ? COMMERCIAL : { name: found.name, dnsSuffix: found.dnsSuffix }
}

/** Every DNS suffix a service host can end with (longest first, so `.com.cn` wins over `.com`). */
export const DNS_SUFFIXES: readonly string[] = [
  ...new Set(PARTITIONS.map((partition) => partition.dnsSuffix))
].sort((a, b) => b.length - a.length)

/** The host of a regional service endpoint: `<prefix>.<region>.<suffix>`, e.g. `s3.cn-north-1.amazonaws.com.cn`. */
export function serviceHost(prefix: string, region: string): string {
  return `${prefix}.${region}.${partitionOf(region).dnsSuffix}`
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` for a resource in `region`. */
export function arnFor(
  service: string,
  region: string,
  accountId: string,
  resource: string
): string {
  return `arn:${partitionOf(region).name}:${service}:${region}:${accountId}:${resource}`
}

/** A regular-expression source matching any partition in an ARN (`aws`, `aws-cn`, `aws-iso-b`, …). */
export const ARN_PARTITION_PATTERN = 'aws(?:-[a-z]+)*'
