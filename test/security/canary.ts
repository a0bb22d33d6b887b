/**
 * Canary values for the secrets tests, and a stack config holding some of them as Pulumi secrets
 * in the exact file format `pulumi config set --secret --path` writes with the passphrase
 * provider (orchestrator/stack/secure-config.ts cites the sources of that format).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encryptValue, newEncryptionSalt, passphraseKey } from '../../orchestrator/stack/secure-config';

export const CANARY = {
  userData: 'CANARY-ud-3b9f0e1c',
  tag: 'CANARY-tag-8d2c41aa',
  webhookToken: 'CANARY-hook-T0K3Nx9',
  sshKeyPath: '/tmp/CANARY-key-id_ed25519',
  bastionPassword: 'CANARY-pw-hunter2zz',
  awsSecretKey: 'CANARY-aws-secret-wJalrXUtnFEMIK7MDENG',
  awsSessionToken: 'CANARY-aws-session-FwoGZXIvYXdzEJr',
} as const;

export const PASSPHRASE = 'correct horse battery staple';

const DEMO = fs.readFileSync(path.resolve(__dirname, '../../examples/demo/Pulumi.demo.yaml'), 'utf8');

export function userDataScript(canary: string = CANARY.userData): string {
  return `#!/bin/bash\nexport BOOTSTRAP_TOKEN=${canary}\n/opt/bootstrap --join\n`;
}

/**
 * Writes `<dir>/Pulumi.<stack>.yaml`: the demo stack with `image`, the rabbit service's user data
 * and a `vaultToken` tag as `secure:` leaves, encrypted for PASSPHRASE.
 */
export function writeSecretStackConfig(dir: string, stack: string, options: { image?: string; userData?: string; imageSecret?: boolean } = {}): string {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  // The stack keeps its salt (as Pulumi does); a new file gets a new one.
  const old = fs.existsSync(file) ? /^encryptionsalt: (v1:([^:]+):.*)$/m.exec(fs.readFileSync(file, 'utf8')) : null;
  const { encryptionsalt, key } = old ? { encryptionsalt: old[1], key: passphraseKey(PASSPHRASE, Buffer.from(old[2], 'base64')) } : newEncryptionSalt(PASSPHRASE);
  const secure = (v: string) => `{secure: "${encryptValue(key, v)}"}`;
  let text = DEMO.replace(/ami-0demo1/g, options.image ?? 'ami-0demo1');
  text = text.replace(
    /(\n    rabbit:\n      strategy: rolling\n)/,
    `$1      userData: ${secure(options.userData ?? userDataScript())}\n      tags:\n        team: messaging\n        vaultToken: ${secure(CANARY.tag)}\n`,
  );
  if (options.imageSecret) text = text.replace(/(\n    web:\n      strategy: ab\n)      imageId: \S+\n/, `$1      imageId: ${secure('ami-0secret')}\n`);
  fs.writeFileSync(file, `encryptionsalt: ${encryptionsalt}\n${text}`);
  return file;
}

/** Every form a canary could leak in: as is, base64, URL-encoded. */
export function leakForms(value: string): string[] {
  return [value, Buffer.from(value).toString('base64'), encodeURIComponent(value)];
}

/** The canaries (in any form) found in `text`. */
export function leaks(text: string, values: readonly string[] = Object.values(CANARY)): string[] {
  return values.filter((v) => leakForms(v).some((f) => text.includes(f)));
}
