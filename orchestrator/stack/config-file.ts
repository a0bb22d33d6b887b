/**
 * The stack config file (`Pulumi.<stack>.yaml`, or `--config-file`), read by the orchestrator
 * itself so `deploy` can validate it BEFORE Pulumi changes anything: `parseServices`
 * (infra/config.ts, the very function the program runs) on `asg-deploy:services`, so an invalid
 * config is exit 2 naming service, key, value and what is allowed, with nothing changed.
 * It also yields `aws:region`: the region Pulumi deploys into, which the rollout must talk to.
 *
 * Not modelled: project-level config defaults in Pulumi.yaml (this project declares none) and
 * Pulumi ESC environments; a services value that is one secret (`secure:`) as a whole cannot be
 * read here and is left to the program to validate. `secure:` leaves inside it are validated
 * as the placeholder `[secret]` (./secure-config.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { parseServices, type ServiceConfig } from '../../infra/config';
import { usageError } from '../errors';
import { maskServicesSecrets } from './secure-config';

const PROJECT = 'asg-deploy';
export const SERVICES_KEY = `${PROJECT}:services`;
export const REGION_KEY = 'aws:region';

/** What the config file says, keys flattened to `namespace:key` as Pulumi does. */
export interface StackConfig {
  /** Absolute path of the file read (or that would be read). */
  file: string;
  exists: boolean;
  values: Record<string, unknown>;
}

/** `org/project/dev` → `dev`: what Pulumi names the config file after and `pulumi.getStack()` returns. */
export function shortStackName(stack: string): string {
  return stack.split('/').pop() ?? stack;
}

/** The file Pulumi reads for `stack`: `--config-file`, else `<root>/Pulumi.<stack>.yaml` (short stack name). */
export function stackConfigPath(root: string, stack: string, configFile?: string): string {
  return configFile ? path.resolve(configFile) : path.join(root, `Pulumi.${shortStackName(stack)}.yaml`);
}

/**
 * Reads the config map of a stack config file, keys without a namespace getting the project's
 * (`services` → `asg-deploy:services`), as Pulumi does. An absent file is an empty config.
 * Not YAML, or `config` not a map: exit 2 naming the file.
 */
export function readStackConfig(file: string, stack: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw usageError('stack.config-invalid', `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const config = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw usageError('stack.config-invalid', `${file}: 'config' must be a map (stack ${stack})`);
  const flat: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) flat[k.includes(':') ? k : `${PROJECT}:${k}`] = v;
  return flat;
}

/**
 * The config of `stack` as the backend would hand it to Pulumi. A `--config-file` that does not
 * exist is bad input (exit 2); a missing `Pulumi.<stack>.yaml` is an empty config (Pulumi's view).
 */
export function loadStackConfig(root: string, stack: string, configFile?: string): StackConfig {
  const file = stackConfigPath(root, stack, configFile);
  const exists = fs.existsSync(file);
  if (configFile && !exists) throw usageError('stack.config-missing', `--config-file ${configFile}: no such file`, { file });
  return { file, exists, values: exists ? readStackConfig(file, stack) : {} };
}

/** A config value Pulumi keeps encrypted (`secure: v1:...`): not readable without Pulumi. */
export function isSecret(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === 'string';
}

export interface ValidatedConfig {
  /** The services in config order, defaults filled in; undefined when they are a secret (unchecked). */
  services?: ServiceConfig[];
  /** `aws:region`, when the file sets it. */
  region?: string;
  file: string;
}

/**
 * Validates the services config exactly as the program will (infra/config.ts `parseServices`).
 * @throws DeployError `config.invalid` (exit 2) listing every problem, each naming service, key,
 *   value and what is allowed; the message names the file too.
 */
export function validateStackConfig(config: StackConfig, stack: string): ValidatedConfig {
  const raw = config.values[SERVICES_KEY];
  const region = typeof config.values[REGION_KEY] === 'string' ? (config.values[REGION_KEY] as string) : undefined;
  if (isSecret(raw)) return { region, file: config.file };
  try {
    // `secure:` leaves (userData, tags values) are validated as the placeholder `[secret]`, never decrypted.
    const { masked } = maskServicesSecrets(raw, shortStackName(stack));
    // Default resource names are `<stack>-<service>` with the program's pulumi.getStack(): the short name.
    return { services: parseServices(masked ?? {}, shortStackName(stack)), region, file: config.file };
  } catch (err) {
    const where = config.exists ? config.file : `${config.file} (absent)`;
    if (err instanceof Error) err.message = `${where}: ${err.message}`;
    throw err;
  }
}
