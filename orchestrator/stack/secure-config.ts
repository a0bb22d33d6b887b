/**
 * `secure:` values in a stack config file (`Pulumi.<stack>.yaml`), as Pulumi writes them.
 *
 * Formats, from Pulumi's own sources (sdk/go/common/resource/config):
 * - a secret leaf is a map with exactly one key, `secure`, holding ciphertext (`value.go`
 *   `isSecureValue`); one anywhere inside a structured value makes the whole top-level key
 *   secure (`hasSecureValue`), and the program gets that key in PULUMI_CONFIG_SECRET_KEYS;
 * - the passphrase secrets provider keeps `encryptionsalt: v1:<base64 salt>:<"pulumi" encrypted>`
 *   at the top of the file; its key is PBKDF2-SHA256(passphrase, salt, 1,000,000 iterations, 32
 *   bytes) and each value is `v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext+tag>`
 *   (`crypt.go` `symmetricCrypter`). The passphrase comes from PULUMI_CONFIG_PASSPHRASE or
 *   PULUMI_CONFIG_PASSPHRASE_FILE, as for the pulumi CLI.
 *
 * The orchestrator never needs a plaintext to validate: it masks each secret leaf with
 * `[secret]`, so a validation error can only ever show the placeholder. Only the sandbox (which
 * plays the pulumi CLI) decrypts, and only with the passphrase provider.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as yaml from 'js-yaml';
import { usageError, type DeployError } from '../errors';

/** What a secret leaf shows as wherever the orchestrator handles the config. */
export const SECRET_PLACEHOLDER = '[secret]';

/** A `secure:` leaf (Pulumi's `isSecureValue`). */
export function isSecureLeaf(value: unknown): value is { secure: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === 'string';
}

/** The value with every `secure:` leaf replaced by `replace(leaf, path)`; `paths` lists where they were. */
export function mapSecureLeaves(value: unknown, replace: (ciphertext: string, path: string[]) => unknown, path: string[] = [], paths: string[][] = []): { value: unknown; paths: string[][] } {
  if (isSecureLeaf(value)) {
    paths.push(path);
    return { value: replace(value.secure, path), paths };
  }
  if (Array.isArray(value)) return { value: value.map((v, i) => mapSecureLeaves(v, replace, [...path, String(i)], paths).value), paths };
  if (typeof value === 'object' && value !== null) {
    return { value: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSecureLeaves(v, replace, [...path, k], paths).value])), paths };
  }
  return { value, paths };
}

/**
 * Where a services config may hold a secret: a service's `userData` and its `tags` values.
 * Anything else names or sizes resources and is written into the `services` manifest in clear.
 */
export function isSecretCapablePath(path: string[]): boolean {
  return (path.length === 2 && path[1] === 'userData') || (path.length === 3 && path[1] === 'tags');
}

/**
 * The services config with every secret leaf masked, or exit 2 naming each secret leaf placed
 * where a secret cannot stay secret.
 */
export function maskServicesSecrets(raw: unknown, stack: string): { masked: unknown; secretPaths: string[] } {
  const { value, paths } = mapSecureLeaves(raw, () => SECRET_PLACEHOLDER);
  const misplaced = paths.filter((p) => !isSecretCapablePath(p));
  if (misplaced.length > 0) {
    const lines = misplaced.map((p) => `  - ${p.length ? `service "${p[0]}": ${p.slice(1).join('.') || '(service)'}` : 'asg-deploy:services'} is a secret (secure:); only userData and tags values may be secrets (they stay secret in Pulumi's state and out of the services manifest)`);
    throw usageError('config.invalid', [`invalid stack config "asg-deploy:services" for stack "${stack}": ${misplaced.length} problem${misplaced.length === 1 ? '' : 's'}`, ...lines].join('\n'), {
      stack,
      problems: misplaced.map((p) => ({ service: p[0] ?? '(all)', key: p[p.length - 1] ?? 'asg-deploy:services', path: p.join('.'), message: 'a secret is allowed only in userData and tags values' })),
    });
  }
  return { masked: value, secretPaths: paths.map((p) => p.join('.')) };
}

// ---- decryption (the sandbox plays the pulumi CLI) -------------------------------------------------

const PBKDF2_ITERATIONS = 1_000_000;
const keyCache = new Map<string, Buffer>();

/** PBKDF2 as Pulumi's passphrase provider derives its key (cached: a million rounds take a while). */
export function passphraseKey(passphrase: string, salt: Buffer): Buffer {
  const id = crypto.createHash('sha256').update(passphrase).update('\0').update(salt).digest('hex');
  let key = keyCache.get(id);
  if (!key) {
    key = crypto.pbkdf2Sync(passphrase, salt, PBKDF2_ITERATIONS, 32, 'sha256');
    keyCache.set(id, key);
  }
  return key;
}

/** `v1:<nonce>:<ciphertext+tag>` → plaintext; throws on a wrong key or a malformed value. */
export function decryptValue(key: Buffer, ciphertext: string): string {
  const parts = ciphertext.split(':');
  if (parts.length !== 3 || parts[0] !== 'v1') throw new Error('not a v1 ciphertext');
  const nonce = Buffer.from(parts[1], 'base64');
  const sealed = Buffer.from(parts[2], 'base64');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
}

/** The inverse of decryptValue (a random nonce each time), as `pulumi config set --secret` writes. */
export function encryptValue(key: Buffer, plaintext: string): string {
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1:${nonce.toString('base64')}:${sealed.toString('base64')}`;
}

export interface DecryptedConfig {
  /** The config with every secret leaf decrypted. */
  values: Record<string, unknown>;
  /** Top-level keys holding a secret (what Pulumi puts in PULUMI_CONFIG_SECRET_KEYS). */
  secretKeys: string[];
  /** The key the values were decrypted with, when there were any (the sandbox seals secret inputs with it). */
  key?: Buffer;
}

function secretsError(file: string, message: string): DeployError {
  return usageError('stack.secrets', `${file}: ${message}`, { file });
}

function readPassphrase(env: NodeJS.ProcessEnv, file: string): string {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    try {
      return fs.readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw secretsError(file, 'PULUMI_CONFIG_PASSPHRASE_FILE cannot be read');
    }
  }
  throw secretsError(file, 'the config holds secure values; set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE to decrypt them (passphrase secrets provider)');
}

/**
 * Decrypts the `secure:` leaves of a stack config (`values` as readStackConfig returns them) with
 * the passphrase provider, as the pulumi CLI does before it runs the program.
 * @throws DeployError `stack.secrets` (exit 2): no passphrase, another secrets provider, no
 *   `encryptionsalt`, a wrong passphrase — never showing a value.
 */
export function decryptStackConfig(file: string, values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): DecryptedConfig {
  const secretKeys = Object.entries(values)
    .filter(([, v]) => mapSecureLeaves(v, (c) => c).paths.length > 0)
    .map(([k]) => k);
  if (secretKeys.length === 0) return { values, secretKeys };
  const doc = (yaml.load(fs.readFileSync(file, 'utf8')) ?? {}) as { encryptionsalt?: unknown; secretsprovider?: unknown };
  if (doc.secretsprovider !== undefined && doc.secretsprovider !== 'passphrase') {
    throw secretsError(file, `secretsprovider ${JSON.stringify(doc.secretsprovider)}: the sandbox decrypts only the passphrase provider's secrets`);
  }
  const salt = typeof doc.encryptionsalt === 'string' ? doc.encryptionsalt.split(':') : [];
  if (salt.length !== 5 || salt[0] !== 'v1') throw secretsError(file, 'secure values but no passphrase encryptionsalt (v1:<salt>:v1:<nonce>:<ciphertext>)');
  const key = passphraseKey(readPassphrase(env, file), Buffer.from(salt[1], 'base64'));
  try {
    decryptValue(key, salt.slice(2).join(':'));
  } catch {
    throw secretsError(file, 'incorrect passphrase (it does not decrypt the encryptionsalt check value)');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = mapSecureLeaves(v, (ciphertext, path) => {
      try {
        return decryptValue(key, ciphertext);
      } catch {
        throw secretsError(file, `${[k, ...path].join('.')}: the secure value does not decrypt with this passphrase`);
      }
    }).value;
  }
  return { values: out, secretKeys, key };
}

/** A new passphrase-provider `encryptionsalt` line value for `passphrase` (as `pulumi stack init` writes). */
export function newEncryptionSalt(passphrase: string): { encryptionsalt: string; key: Buffer } {
  const salt = crypto.randomBytes(8);
  const key = passphraseKey(passphrase, salt);
  return { encryptionsalt: `v1:${salt.toString('base64')}:${encryptValue(key, 'pulumi')}`, key };
}
