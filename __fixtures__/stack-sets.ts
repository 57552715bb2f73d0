/**
 * Stack set stand-ins: a template whose instances build their image URI with `${AWS::Region}`
 * from the three parameters the action fills.
 */

/** The service as a stack set template: the URI is built per region from the action's parameters. */
export const STACK_SET_TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  ImageRegistryAccount:
    Type: String
  ImageRepository:
    Type: String
  ImageDigest:
    Type: String
  Stage:
    Type: String
    Default: dev
Resources:
  FunctionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
  HelloFunction:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Image
      Code:
        ImageUri: !Sub '\${ImageRegistryAccount}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/\${ImageRepository}@\${ImageDigest}'
      Role: !GetAtt FunctionRole.Arn
Outputs:
  DeployedImage:
    Value: !Sub '\${ImageRegistryAccount}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/\${ImageRepository}@\${ImageDigest}'
`
