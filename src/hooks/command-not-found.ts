/**
 * An unknown command: name the closest one and exit with the usage code. Never a prompt, so a
 * script with a typo fails at once instead of waiting for an answer (@oclif/plugin-not-found
 * prompts on a terminal, and without one prints no suggestion and exits 127).
 */
import { toConfiguredId, type Hook } from '@oclif/core';
import { ExitCode } from '../cli/exit-codes.js';
import { editDistance } from '../util/edit-distance.js';

const hook: Hook<'command_not_found'> = async function ({ config, id }) {
  const visible = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const typed = toConfiguredId(id, config);
  const closest = closestName(id, visible);
  const hint = closest === undefined ? '' : ` Did you mean "${config.bin} ${toConfiguredId(closest, config)}"?`;
  this.error(`command ${typed} not found.${hint} Run "${config.bin} help" for a list of commands.`, { exit: ExitCode.usage });
};

export default hook;

/** The name within a third of its length in edits of what was typed, the nearest first. */
export function closestName(typed: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(typed, name);
    if (distance <= Math.max(2, Math.floor(name.length / 3)) && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}
