/**
 * One error type for everything the tool reports. `code` is stable (tests and the JSON events
 * assert on it), `source` says whose fault it was, `exit` is the docs/design.md exit code the CLI
 * maps it to. Only the CLI turns errors into exit codes.
 */
export type ErrorSource = 'user' | 'aws' | 'tool';

/** Exit codes from docs/design.md. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  refused: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class DeployError extends Error {
  readonly code: string;
  readonly source: ErrorSource;
  readonly exit: ExitCode;
  readonly data: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { source?: ErrorSource; exit?: ExitCode; cause?: unknown; data?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeployError';
    this.code = code;
    this.source = options.source ?? 'tool';
    this.exit = options.exit ?? ExitCode.failed;
    this.data = options.data ?? {};
  }
}

/** Bad input: usage, unknown or ambiguous group, invalid config. Exit 2. */
export function usageError(code: string, message: string, data?: Record<string, unknown>): DeployError {
  return new DeployError(code, message, { source: 'user', exit: ExitCode.badInput, data });
}

/** Refused by a precondition: locked, both colors populated, no headroom. Exit 3. */
export function refusedError(code: string, message: string, data?: Record<string, unknown>): DeployError {
  return new DeployError(code, message, { source: 'user', exit: ExitCode.refused, data });
}

/** The rollout failed or timed out and was halted in a safe state. Exit 1. */
export function rolloutError(code: string, message: string, data?: Record<string, unknown>, cause?: unknown): DeployError {
  return new DeployError(code, message, { source: 'tool', exit: ExitCode.failed, data, cause });
}

/** Interrupted (SIGINT/SIGTERM) after cleanup. Exit 130. */
export function interruptedError(message = 'interrupted; everything the tool changed was restored'): DeployError {
  return new DeployError('interrupted', message, { source: 'user', exit: ExitCode.interrupted });
}


export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err instanceof DeployError && err.code === 'interrupted'));
}
