/**
 * Pulumi secrets inside the structured `asg-deploy:services` config value.
 *
 * How Pulumi hands them to the program (@pulumi/pulumi 3.248.0, `runtime/config.js`, and the
 * engine's `config.Value`): a `secure:` leaf anywhere inside a structured value makes the WHOLE
 * top-level key secure. The language host passes the decrypted value as JSON text in
 * `PULUMI_CONFIG` and lists the key in `PULUMI_CONFIG_SECRET_KEYS` (under mocks:
 * `pulumi.runtime.setAllConfig(config, secretKeys)`). The program cannot see which leaf was the
 * secret one, only that the key holds one.
 *
 * So when `asg-deploy:services` is secret the program:
 * - reads it with the secret-aware accessor `Config.requireSecretObject` (no "use getSecretObject"
 *   warning), and derives every SECRET-CAPABLE field (`userData`, each `tags` value) from that
 *   secret Output, so those fields stay secret Outputs into the resources (Pulumi encrypts them in
 *   its state and shows `[secret]` in diffs);
 * - validates the plain structure (names, sizes, strategies: fields that name resources and can
 *   never be secret; the orchestrator refuses a `secure:` leaf anywhere else, see
 *   orchestrator/stack/secure-config.ts) and reports problems WITHOUT values.
 * The `services` manifest carries no secret-capable field.
 */
import * as pulumi from '@pulumi/pulumi';
import { parseServices, type ServiceConfig } from './config';

/** The fields of a service that may hold a Pulumi secret (everything else names or sizes resources). */
export const SECRET_CAPABLE_FIELDS = ['userData', 'tags.<key>'] as const;

/** The secret-capable fields of one service, as secret Outputs. */
export interface ServiceSecrets {
  userData?: pulumi.Output<string>;
  tags: Record<string, pulumi.Output<string>>;
}

export interface ServicesConfigRead {
  /** The plain value, for validation and structure. */
  raw: unknown;
  /** True when Pulumi marked `asg-deploy:services` secret (some leaf was `secure:`). */
  secret: boolean;
  /** The value as Pulumi's secret Output (only when `secret`). */
  secretValue?: pulumi.Output<unknown>;
}

/** Whether Pulumi handed the program the config key (e.g. `asg-deploy:services`) as a secret. */
export function isSecretConfigKey(fullKey: string): boolean {
  // `isConfigSecret` is runtime/config.js's reader of PULUMI_CONFIG_SECRET_KEYS (exported from
  // `pulumi.runtime` but marked @internal, so not in the typings).
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret?.(fullKey) ?? false;
}

/**
 * Reads `asg-deploy:services` the way Pulumi intends: `getObject` for a plain value,
 * `requireSecretObject` when it holds a secret.
 */
export function readServicesConfig(config: pulumi.Config = new pulumi.Config('asg-deploy')): ServicesConfigRead {
  const fullKey = `${config.name}:services`;
  if (!isSecretConfigKey(fullKey)) return { raw: config.getObject<unknown>('services'), secret: false };
  const secretValue = config.requireSecretObject<unknown>('services');
  // The structure is read from the runtime's config map, the same text the accessors parse;
  // no secret-capable field is used from it (see servicesSecrets).
  const text = pulumi.runtime.getConfig(fullKey);
  let raw: unknown = text;
  try {
    raw = text === undefined ? undefined : JSON.parse(text);
  } catch {
    // parseServices reports it (without the value: the key is secret)
  }
  return { raw, secret: true, secretValue };
}

/**
 * The secret-capable fields of every service as secret Outputs derived from Pulumi's secret
 * config Output (`apply` keeps secrecy), keyed by service. Plain configs give no secrets.
 */
export function servicesSecrets(read: ServicesConfigRead, configs: ServiceConfig[], stack: string): Map<string, ServiceSecrets> {
  const out = new Map<string, ServiceSecrets>();
  if (!read.secret || !read.secretValue) return out;
  const parsed = read.secretValue.apply((raw) => parseServices(raw, stack));
  for (const cfg of configs) {
    const field = <T>(pick: (c: ServiceConfig) => T) => parsed.apply((list) => pick(list.find((c) => c.service === cfg.service)!));
    out.set(cfg.service, {
      ...(cfg.userData !== undefined ? { userData: field((c) => c.userData ?? '') } : {}),
      tags: Object.fromEntries(Object.keys(cfg.tags).map((k) => [k, field((c) => c.tags[k] ?? '')])),
    });
  }
  return out;
}
