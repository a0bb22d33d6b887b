import { notImplemented } from '../errors';
import type { CommandSpec } from './command';

/** A command declared in DESIGN.md that this build cannot run yet: says so and exits 2. */
export function placeholder(name: string, describe: string): CommandSpec {
  return {
    name,
    describe: `${describe} (not implemented yet)`,
    builder: (y) => y.strict(false),
    async run() {
      throw notImplemented(`'asg-deploy ${name}'`);
    },
  };
}
