import { describe, expect, it } from '@jest/globals'
import {
  architectureMismatches,
  functionsUsingParameter,
  imageArchitecture,
  packageTypeWarnings,
  type ImageFunction
} from '../../src/template/functions.js'
import { parseTemplate, type Template, type TemplateResource } from '../../src/template/template.js'

const PARAM = 'CodeImageURI'

function withResources(
  resources: Record<string, TemplateResource>,
  functionGlobals?: Record<string, unknown>
): Pick<Template, 'resources' | 'functionGlobals' | 'unresolvedLoops'> {
  return { resources, unresolvedLoops: [], ...(functionGlobals ? { functionGlobals } : {}) }
}

function lambda(properties: Record<string, unknown>): TemplateResource {
  return { Type: 'AWS::Lambda::Function', Properties: properties }
}

const imageCode = { Code: { ImageUri: { Ref: PARAM } } }

describe('functionsUsingParameter', () => {
  it.each<[string, unknown]>([
    ['a Ref in Code.ImageUri', { ImageUri: { Ref: PARAM } }],
    ['an Fn::Sub string', { ImageUri: { 'Fn::Sub': '${CodeImageURI}' } }],
    ['an Fn::Sub string among other text', { ImageUri: { 'Fn::Sub': 'x-${CodeImageURI}-y' } }],
    [
      'an Fn::Sub [string, variables] whose string names it',
      { ImageUri: { 'Fn::Sub': ['${CodeImageURI}', { Other: 'x' }] } }
    ],
    [
      'an Fn::Sub variable that is a Ref to it',
      { ImageUri: { 'Fn::Sub': ['${Image}', { Image: { Ref: PARAM } }] } }
    ],
    ['a Ref nested in Fn::If', { ImageUri: { 'Fn::If': ['C', { Ref: PARAM }, 'other'] } }],
    ['a Ref in an environment variable', { Environment: { Variables: { I: { Ref: PARAM } } } }]
  ])('finds a function that references the parameter through %s', (_, code) => {
    const template = withResources({ Fn: lambda({ PackageType: 'Image', Code: code }) })
    expect(functionsUsingParameter(template, PARAM).map((f) => f.logicalId)).toEqual(['Fn'])
  })

  it.each<[string, unknown]>([
    ['a Ref to another parameter', { ImageUri: { Ref: 'Other' } }],
    ['a longer parameter name', { ImageUri: { Ref: `${PARAM}2` } }],
    ['an escaped ${!name} in Fn::Sub', { ImageUri: { 'Fn::Sub': '${!CodeImageURI}' } }],
    ['an attribute-style ${name.Attr}', { ImageUri: { 'Fn::Sub': '${CodeImageURI.Arn}' } }],
    [
      'an Fn::Sub variable of the same name that shadows it',
      { ImageUri: { 'Fn::Sub': ['${CodeImageURI}', { CodeImageURI: 'literal' }] } }
    ],
    ['the name as a plain string', { ImageUri: PARAM }]
  ])('does not count %s', (_, code) => {
    const template = withResources({ Fn: lambda({ PackageType: 'Image', Code: code }) })
    expect(functionsUsingParameter(template, PARAM)).toEqual([])
  })

  it('reports type, package type and architectures of each function, ignoring other resources', () => {
    const template = withResources({
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { Ref: PARAM } } },
      Api: lambda({ PackageType: 'Image', Architectures: ['arm64'], ...imageCode }),
      Worker: {
        Type: 'AWS::Serverless::Function',
        Properties: { PackageType: 'Image', ImageUri: { Ref: PARAM } }
      },
      Unrelated: lambda({ Runtime: 'nodejs20.x', Handler: 'i.h', Code: { ZipFile: 'x' } })
    })
    expect(functionsUsingParameter(template, PARAM)).toEqual([
      {
        logicalId: 'Api',
        type: 'AWS::Lambda::Function',
        packageType: 'Image',
        architectures: ['arm64']
      },
      {
        logicalId: 'Worker',
        type: 'AWS::Serverless::Function',
        packageType: 'Image',
        architectures: ['x86_64']
      }
    ])
  })

  it.each<[string, Record<string, unknown>, string[]]>([
    ['absent: Lambda default', {}, ['x86_64']],
    ['a literal list', { Architectures: ['arm64'] }, ['arm64']],
    ['an intrinsic: unknown', { Architectures: { 'Fn::If': ['A', ['arm64'], ['x86_64']] } }, []],
    ['a Ref: unknown', { Architectures: { Ref: 'Arch' } }, []],
    ['a list with an intrinsic: unknown', { Architectures: [{ Ref: 'Arch' }] }, []]
  ])('reads Architectures %s', (_, properties, expected) => {
    const template = withResources({ Fn: lambda({ ...properties, ...imageCode }) })
    expect(functionsUsingParameter(template, PARAM)[0]?.architectures).toEqual(expected)
  })

  it('leaves packageType out when PackageType is absent or not a literal', () => {
    const template = withResources({
      A: lambda({ ...imageCode }),
      B: lambda({ PackageType: { 'Fn::If': ['C', 'Image', 'Zip'] }, ...imageCode })
    })
    const found = functionsUsingParameter(template, PARAM)
    expect(found.map((f) => 'packageType' in f)).toEqual([false, false])
  })

  it("takes a SAM function's Architectures from Globals.Function unless it sets its own", () => {
    const template = parseTemplate(
      Buffer.from(`Transform: AWS::Serverless-2016-10-31
Parameters:
  CodeImageURI: { Type: String }
Globals:
  Function:
    Architectures: [arm64]
    Timeout: 10
Resources:
  Inherits:
    Type: AWS::Serverless::Function
    Properties: { PackageType: Image, ImageUri: !Ref CodeImageURI }
  Overrides:
    Type: AWS::Serverless::Function
    Properties: { PackageType: Image, ImageUri: !Ref CodeImageURI, Architectures: [x86_64] }
  Plain:
    Type: AWS::Lambda::Function
    Properties: { PackageType: Image, Code: { ImageUri: !Sub '\${CodeImageURI}' } }
`),
      'sam.yaml'
    )
    expect(template.functionGlobals).toEqual({ Architectures: ['arm64'], Timeout: 10 })
    expect(
      functionsUsingParameter(template, PARAM).map((f) => [f.logicalId, f.architectures])
    ).toEqual([
      ['Inherits', ['arm64']],
      ['Overrides', ['x86_64']],
      // Globals apply to SAM resources only.
      ['Plain', ['x86_64']]
    ])
  })

  it('finds the function in a parsed YAML template through !Ref', () => {
    const template = parseTemplate(
      Buffer.from(`Parameters:
  CodeImageURI: { Type: String }
Resources:
  Function:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Image
      Architectures: [arm64]
      Code:
        ImageUri: !Ref CodeImageURI
`),
      'service.yaml'
    )
    expect(template.functionGlobals).toBeUndefined()
    expect(functionsUsingParameter(template, PARAM)).toEqual([
      {
        logicalId: 'Function',
        type: 'AWS::Lambda::Function',
        packageType: 'Image',
        architectures: ['arm64']
      }
    ])
  })
})

describe('packageTypeWarnings', () => {
  it('warns once when no resource references the parameter', () => {
    const template = withResources({
      Fn: lambda({ PackageType: 'Image', Code: { ImageUri: { Ref: 'SomethingElse' } } })
    })
    expect(packageTypeWarnings(template, PARAM)).toEqual([
      "No resource in the template references the parameter 'CodeImageURI' (input 'image-parameter'), so the image would be pushed and never deployed: reference it from the function, e.g. Code: {ImageUri: !Ref CodeImageURI} with PackageType: Image (ImageUri: !Ref CodeImageURI for AWS::Serverless::Function)."
    ])
  })

  it('says nothing when every referencing function is PackageType: Image', () => {
    const template = withResources({
      Fn: lambda({ PackageType: 'Image', ...imageCode }),
      Sam: {
        Type: 'AWS::Serverless::Function',
        Properties: { PackageType: 'Image', ImageUri: { Ref: PARAM } }
      }
    })
    expect(packageTypeWarnings(template, PARAM)).toEqual([])
  })

  it('says nothing when only a non-function resource references the parameter', () => {
    const template = withResources({
      Task: {
        Type: 'AWS::ECS::TaskDefinition',
        Properties: { ContainerDefinitions: [{ Image: { Ref: PARAM } }] }
      }
    })
    expect(packageTypeWarnings(template, PARAM)).toEqual([])
  })

  it.each<[string, TemplateResource, string]>([
    [
      'a Lambda function without PackageType',
      lambda({ ...imageCode }),
      "Function 'Fn' (AWS::Lambda::Function) references the image parameter 'CodeImageURI' but has no PackageType (Zip by default), so it cannot run the pushed image: set PackageType: Image on it."
    ],
    [
      'a Lambda function with PackageType: Zip',
      lambda({ PackageType: 'Zip', ...imageCode }),
      "Function 'Fn' (AWS::Lambda::Function) references the image parameter 'CodeImageURI' but has PackageType: Zip, so it cannot run the pushed image: set PackageType: Image on it."
    ],
    [
      'a SAM function without PackageType',
      { Type: 'AWS::Serverless::Function', Properties: { ImageUri: { Ref: PARAM } } },
      "Function 'Fn' (AWS::Serverless::Function) references the image parameter 'CodeImageURI' but has no PackageType (Zip by default), so it cannot run the pushed image: set PackageType: Image on it."
    ]
  ])('warns about %s', (_, resource, message) => {
    expect(packageTypeWarnings(withResources({ Fn: resource }), PARAM)).toEqual([message])
  })

  it('trusts a PackageType given by an intrinsic', () => {
    const template = withResources({
      Fn: lambda({ PackageType: { 'Fn::If': ['C', 'Image', 'Zip'] }, ...imageCode })
    })
    expect(packageTypeWarnings(template, PARAM)).toEqual([])
  })

  it('warns once per offending function', () => {
    const template = withResources({
      A: lambda({ ...imageCode }),
      B: lambda({ PackageType: 'Image', ...imageCode }),
      C: lambda({ PackageType: 'Zip', ...imageCode })
    })
    const warnings = packageTypeWarnings(template, PARAM)
    expect(warnings.map((w) => /^Function '(\w+)'/.exec(w)?.[1])).toEqual(['A', 'C'])
  })
})

describe('imageArchitecture', () => {
  it.each([
    ['linux/arm64', '', 'arm64'],
    ['linux/arm64/v8', '', 'arm64'],
    ['arm64', '', 'arm64'],
    ['aarch64', '', 'arm64'],
    ['linux/amd64', '', 'x86_64'],
    ['amd64', '', 'x86_64'],
    ['x86_64', '', 'x86_64'],
    ['LINUX/AMD64', '', 'x86_64'],
    ['', 'arm64', 'arm64'],
    ['', 'amd64', 'x86_64'],
    ['', 'aarch64', 'arm64'],
    // The platform input decided the build: it wins.
    ['linux/amd64', 'arm64', 'x86_64'],
    ['linux/arm64', 'amd64', 'arm64'],
    // Architectures Lambda does not run come back as they are.
    ['linux/s390x', '', 's390x'],
    ['', 'arm', 'arm'],
    // Nothing known, or several platforms (an index, which the manifest check refuses).
    ['', '', ''],
    ['linux/amd64,linux/arm64', 'amd64', '']
  ])('platform %j, docker %j → %j', (platform, docker, expected) => {
    expect(imageArchitecture(platform, docker)).toBe(expected)
  })
})

describe('architectureMismatches', () => {
  const fn = (logicalId: string, architectures: string[]): ImageFunction => ({
    logicalId,
    type: 'AWS::Lambda::Function',
    packageType: 'Image',
    architectures
  })

  it.each<[string, ImageFunction[], string, string[]]>([
    ['a matching x86_64 function', [fn('Api', ['x86_64'])], 'x86_64', []],
    ['a matching arm64 function', [fn('Api', ['arm64'])], 'arm64', []],
    ['unknown function architectures', [fn('Api', [])], 'arm64', []],
    ['an unknown image architecture', [fn('Api', ['x86_64'])], '', []],
    [
      'an arm64 image for an x86_64 function',
      [fn('Api', ['x86_64'])],
      'arm64',
      [
        "Function 'Api' (AWS::Lambda::Function) runs on x86_64, but the image is built for arm64: set the function's Architectures: [arm64] in the template, or build the image with input 'platform: linux/amd64'."
      ]
    ],
    [
      'an x86_64 image for an arm64 function',
      [fn('Api', ['arm64'])],
      'x86_64',
      [
        "Function 'Api' (AWS::Lambda::Function) runs on arm64, but the image is built for x86_64: set the function's Architectures: [x86_64] in the template, or build the image with input 'platform: linux/arm64'."
      ]
    ],
    [
      'an image Lambda cannot run',
      [fn('Api', ['arm64'])],
      's390x',
      [
        "Function 'Api' (AWS::Lambda::Function) runs on arm64, but the image is built for s390x, which Lambda does not run: build it with input 'platform: linux/arm64'."
      ]
    ]
  ])('%s', (_, functions, imageArch, expected) => {
    expect(architectureMismatches(functions, imageArch)).toEqual(expected)
  })

  it('names only the functions that differ', () => {
    const functions = [fn('A', ['arm64']), fn('B', ['x86_64']), fn('C', ['arm64'])]
    const messages = architectureMismatches(functions, 'x86_64')
    expect(messages.map((m) => /^Function '(\w+)'/.exec(m)?.[1])).toEqual(['A', 'C'])
  })
})

describe('architectureMismatches for an image given as input image', () => {
  const fn = { logicalId: 'Api', type: 'AWS::Lambda::Function', architectures: ['x86_64'] }

  it('tells to change the template or give another image, not to build', () => {
    expect(architectureMismatches([fn], 'arm64', 'given')).toEqual([
      "Function 'Api' (AWS::Lambda::Function) runs on x86_64, but input 'image' is an image for arm64: set the function's Architectures: [arm64] in the template, or give input 'image' an image built for linux/amd64."
    ])
  })

  it('says Lambda does not run an architecture it does not know', () => {
    expect(architectureMismatches([fn], 's390x', 'given')).toEqual([
      "Function 'Api' (AWS::Lambda::Function) runs on x86_64, but input 'image' is an image for s390x, which Lambda does not run: give input 'image' an image built for linux/amd64."
    ])
  })
})

describe('functions made by Fn::ForEach', () => {
  const loop = (collection: string) =>
    parseTemplate(
      Buffer.from(`Transform: AWS::LanguageExtensions
Parameters:
  CodeImageURI: {Type: String}
Resources:
  Fn::ForEach::Workers:
    - Name
    - ${collection}
    - \${Name}Worker:
        Type: AWS::Lambda::Function
        Properties:
          Code: {ImageUri: !Ref CodeImageURI}
          Architectures: [arm64]
`),
      't.yaml'
    )

  it('checks each function a loop makes', () => {
    const template = loop('[a, b]')
    expect(functionsUsingParameter(template, PARAM).map((f) => f.logicalId)).toEqual([
      'aWorker',
      'bWorker'
    ])
    expect(architectureMismatches(functionsUsingParameter(template, PARAM), 'x86_64')).toHaveLength(
      2
    )
    expect(packageTypeWarnings(template, PARAM)).toHaveLength(2)
  })

  it('does not claim nothing references the image when a deploy-time loop holds the function', () => {
    expect(packageTypeWarnings(loop('!ImportValue worker-names'), PARAM)).toEqual([])
  })
})
