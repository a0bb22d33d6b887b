/**
 * AWS-shaped errors. The simulation throws {@link SimFault} (AWS's error code, message, HTTP
 * status); {@link toSdkError} turns it into what the real SDK would have thrown after
 * deserializing AWS's response: the client's modeled exception class where one exists (its
 * `name` is the class name, `Code` the AWS code), else the client's ServiceException with the
 * AWS code as `name` — checked against the SDK's own deserializer (see test/sandbox/errors.test.ts).
 */
import * as AS from '@aws-sdk/client-auto-scaling';
import * as EC2 from '@aws-sdk/client-ec2';
import * as ELB from '@aws-sdk/client-elastic-load-balancing';

export type ServiceName = 'autoscaling' | 'ec2' | 'elb' | 'elbv2' | 's3' | 'cloudwatch';

export class SimFault extends Error {
  constructor(readonly code: string, message: string, readonly status = 400, readonly fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
    super(message);
    this.name = code;
  }
}

/** Every call from a crashed client set fails with this (the process is "dead": no cleanup). */
export class SandboxCrashedError extends Error {
  constructor(actor: string, operation: string) {
    super(`sandbox: client set '${actor}' has crashed (simulated kill -9); ${operation} was never sent`);
    this.name = 'SandboxCrashedError';
  }
}

type ExceptionClass = new (opts: any) => Error;

type ServiceErrors = { modeled: Record<string, ExceptionClass>; base: ExceptionClass };

/**
 * Each service's modeled exception classes and its ServiceException. ELBv2, CloudWatch and S3 are
 * loaded on first use, as their clients are (sandbox/index.ts): most runs never touch them, and
 * each SDK package costs tens of MB when loaded.
 */
const errorsOf: Record<ServiceName, () => ServiceErrors> = {
  autoscaling: () => ({
    modeled: {
      AlreadyExists: AS.AlreadyExistsFault,
      ResourceContention: AS.ResourceContentionFault,
      LimitExceeded: AS.LimitExceededFault,
      ResourceInUse: AS.ResourceInUseFault,
      ScalingActivityInProgress: AS.ScalingActivityInProgressFault,
      InstanceRefreshInProgress: AS.InstanceRefreshInProgressFault,
      ActiveInstanceRefreshNotFound: AS.ActiveInstanceRefreshNotFoundFault,
      InvalidNextToken: AS.InvalidNextToken,
    },
    base: AS.AutoScalingServiceException,
  }),
  elb: () => ({
    modeled: {
      LoadBalancerNotFound: ELB.AccessPointNotFoundException,
      DuplicateLoadBalancerName: ELB.DuplicateAccessPointNameException,
      InvalidInstance: ELB.InvalidEndPointException,
      InvalidConfigurationRequest: ELB.InvalidConfigurationRequestException,
      LoadBalancerAttributeNotFound: ELB.LoadBalancerAttributeNotFoundException,
    },
    base: ELB.ElasticLoadBalancingServiceException,
  }),
  elbv2: () => {
    const ELBV2 = require('@aws-sdk/client-elastic-load-balancing-v2') as typeof import('@aws-sdk/client-elastic-load-balancing-v2');
    return {
      modeled: {
        TargetGroupNotFound: ELBV2.TargetGroupNotFoundException,
        LoadBalancerNotFound: ELBV2.LoadBalancerNotFoundException,
        ListenerNotFound: ELBV2.ListenerNotFoundException,
        RuleNotFound: ELBV2.RuleNotFoundException,
        DuplicateTargetGroupName: ELBV2.DuplicateTargetGroupNameException,
        DuplicateListener: ELBV2.DuplicateListenerException,
        PriorityInUse: ELBV2.PriorityInUseException,
        ResourceInUse: ELBV2.ResourceInUseException,
        InvalidTarget: ELBV2.InvalidTargetException,
        OperationNotPermitted: ELBV2.OperationNotPermittedException,
      },
      base: ELBV2.ElasticLoadBalancingV2ServiceException,
    };
  },
  ec2: () => ({ modeled: {}, base: EC2.EC2ServiceException }),
  cloudwatch: () => {
    const CW = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
    return {
      modeled: {
        InvalidNextToken: CW.InvalidNextToken,
        ResourceNotFound: CW.ResourceNotFound,
        InvalidParameterValue: CW.InvalidParameterValueException,
        MissingParameter: CW.MissingRequiredParameterException,
        InvalidParameterCombination: CW.InvalidParameterCombinationException,
      },
      base: CW.CloudWatchServiceException,
    };
  },
  s3: () => {
    const S3 = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    return {
      modeled: {
        NoSuchKey: S3.NoSuchKey,
        NoSuchBucket: S3.NoSuchBucket,
        NotFound: S3.NotFound,
        BucketAlreadyOwnedByYou: S3.BucketAlreadyOwnedByYou,
        BucketAlreadyExists: S3.BucketAlreadyExists,
      },
      base: S3.S3ServiceException,
    };
  },
};
const loaded = new Map<ServiceName, ServiceErrors>();
function errors(service: ServiceName): ServiceErrors {
  let e = loaded.get(service);
  if (!e) loaded.set(service, (e = errorsOf[service]()));
  return e;
}

/** The SDK-shaped error for a simulated fault. */
export function toSdkError(service: ServiceName, f: SimFault, requestId: string): Error {
  const $metadata = { httpStatusCode: f.status, requestId, attempts: 1, totalRetryDelay: 0 };
  const { modeled, base } = errors(service);
  const Cls = modeled[f.code];
  let err: any;
  if (Cls) {
    err = new Cls({ message: f.message, $metadata });
  } else {
    err = new base({ name: f.code, $fault: f.fault, $metadata, message: f.message });
  }
  err.Code = f.code;
  err.RequestId = requestId;
  if (service !== 's3') {
    err.Type = f.fault === 'server' ? 'Receiver' : 'Sender';
    err.Error = { Type: err.Type, Code: f.code, Message: f.message };
  }
  return err;
}

/** The throttling error each service returns. */
export function throttle(service: ServiceName): SimFault {
  switch (service) {
    case 'ec2':
      return new SimFault('RequestLimitExceeded', 'Request limit exceeded.', 503, 'client');
    case 's3':
      return new SimFault('SlowDown', 'Please reduce your request rate.', 503, 'client');
    default:
      return new SimFault('Throttling', 'Rate exceeded', 400, 'client');
  }
}

/** A 5xx each service returns. */
export function serverError(service: ServiceName): SimFault {
  switch (service) {
    case 'ec2':
    case 's3':
      return new SimFault('InternalError', 'We encountered an internal error. Please try again.', 500);
    default:
      return new SimFault('InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 500);
  }
}
