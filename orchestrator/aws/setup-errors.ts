/**
 * Errors that say "your AWS setup is not usable" rather than "the rollout failed": no region,
 * no/expired/invalid credentials, access denied, an endpoint that cannot be reached. The CLI
 * turns each into one named DeployError (exit 2, bad input) with a one-line hint, instead of a
 * raw SDK error and a stack trace.
 *
 * Shapes, from the SDK and AWS (not invented here):
 * - "Region is missing": a plain Error thrown by @smithy/core config's region resolver.
 * - CredentialsProviderError / TokenProviderError (@smithy/core config, `name`): nothing in the
 *   credential chain, or an expired SSO session.
 * - Service errors carry the AWS error code as `name` (SDK v3 ServiceException): the common
 *   errors AWS lists for EC2 Auto Scaling, EC2, ELB and S3 (ExpiredToken, InvalidClientTokenId,
 *   AccessDenied, UnauthorizedOperation, AuthFailure, ...).
 * - Network: Node's `code` (ENOTFOUND, EAI_AGAIN, ECONNREFUSED, ...), as @smithy/core retry
 *   classifies them (NODEJS_NETWORK_ERROR_CODES).
 * The error may be wrapped (DeployError `cause`): the whole cause chain is searched.
 */
import { DeployError, ExitCode } from '../errors';

export const AwsSetupCodes = {
  region: 'aws.region-missing',
  credentials: 'aws.credentials-missing',
  expired: 'aws.credentials-expired',
  invalid: 'aws.credentials-invalid',
  denied: 'aws.access-denied',
  endpoint: 'aws.endpoint-unreachable',
} as const;

const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const INVALID = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'AuthFailure', 'InvalidSignatureException', 'MissingAuthenticationToken']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'NotAuthorized', 'OptInRequired', 'Forbidden']);
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID']);

const CHAIN = 'the SDK credential chain: --profile NAME or AWS_PROFILE (aws sso login --profile NAME for SSO), AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, or an instance/task role';

function* causes(err: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  let e = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    yield e as Record<string, unknown>;
    e = (e as { cause?: unknown }).cause;
  }
}

/** The named setup error for `err` (searching its causes), or undefined when it is something else. */
export function awsSetupError(err: unknown): DeployError | undefined {
  for (const e of causes(err)) {
    const name = typeof e.name === 'string' ? e.name : '';
    const message = typeof e.message === 'string' ? e.message.split('\n')[0] : '';
    const code = typeof e.code === 'string' ? e.code : '';
    const make = (c: string, what: string, hint: string) =>
      new DeployError(c, what, { source: 'user', exit: ExitCode.badInput, cause: err, data: { error: name || code, hint } });
    if (/^Region is missing$/.test(message)) {
      return make(AwsSetupCodes.region, 'no AWS region: the SDK found none (Region is missing)', 'pass --region REGION, set AWS_REGION, or set region in your profile (--profile NAME / AWS_PROFILE)');
    }
    if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
      if (/expired|refresh/i.test(message)) return make(AwsSetupCodes.expired, `AWS credentials expired (${name}: ${message})`, `log in again (aws sso login --profile NAME) or renew the session token; ${CHAIN}`);
      return make(AwsSetupCodes.credentials, `no AWS credentials (${name}: ${message})`, `give credentials through ${CHAIN}; never as flags`);
    }
    if (EXPIRED.has(name)) return make(AwsSetupCodes.expired, `AWS credentials expired or the request is stale (${name}: ${message})`, `renew them (aws sso login --profile NAME, or a new AWS_SESSION_TOKEN) and check the machine's clock; ${CHAIN}`);
    if (INVALID.has(name)) return make(AwsSetupCodes.invalid, `AWS rejected the credentials (${name}: ${message})`, `check the access key and secret of the profile or environment in use; ${CHAIN}`);
    if (DENIED.has(name)) return make(AwsSetupCodes.denied, `AWS denied a call (${name}: ${message})`, 'grant the permissions listed in docs/iam.md to the identity in use (aws sts get-caller-identity shows which)');
    if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) {
      return make(AwsSetupCodes.endpoint, `the AWS endpoint cannot be reached (${code || name}: ${message})`, 'check --region (a real region name), AWS_ENDPOINT_URL and the network/proxy');
    }
  }
  return undefined;
}
