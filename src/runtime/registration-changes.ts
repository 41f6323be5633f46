/**
 * What a reload (`lightbus run --watch`) changes in what the process runs: the APIs, listeners
 * and tasks the new code registers that the old did not, those it no longer registers, and
 * those it registers differently (an API's schema or deadline, a listener's events or policy,
 * a task's schedule). The invoker applies it (Invoker.update); the rest stays as it runs.
 */
import type { ListenerDescriptor, Registrations, ServedApiDescriptor, TaskDescriptor } from './protocol.js';

export interface Changes<T> {
  added: T[];
  changed: T[];
  removed: string[];
}

export interface RegistrationChanges {
  apis: Changes<ServedApiDescriptor>;
  listeners: Changes<ListenerDescriptor>;
  tasks: Changes<TaskDescriptor>;
}

export function registrationChanges(before: Registrations, after: Registrations): RegistrationChanges {
  return {
    apis: changesOf(before.apis, after.apis),
    listeners: changesOf(before.listeners, after.listeners),
    tasks: changesOf(before.tasks, after.tasks),
  };
}

/** Whether a reload changes nothing the invoker runs. */
export function nothingChanged(changes: RegistrationChanges): boolean {
  return Object.values(changes).every((c: Changes<unknown>) => c.added.length + c.changed.length + c.removed.length === 0);
}

/** A one-line account for the log: `+api:billing ~listener:ears -task:cleanup`. */
export function describeChanges(changes: RegistrationChanges): string[] {
  const lines: string[] = [];
  for (const [kind, key] of [['api', 'apis'], ['listener', 'listeners'], ['task', 'tasks']] as const) {
    const { added, changed, removed } = changes[key];
    lines.push(...added.map((d) => `+${kind}:${d.name}`), ...changed.map((d) => `~${kind}:${d.name}`), ...removed.map((name) => `-${kind}:${name}`));
  }
  return lines;
}

function changesOf<T extends { name: string }>(before: readonly T[], after: readonly T[]): Changes<T> {
  const old = new Map(before.map((d) => [d.name, d]));
  const names = new Set(after.map((d) => d.name));
  return {
    added: after.filter((d) => !old.has(d.name)),
    // Descriptors are plain data made by the same code: equal data serialises equally.
    changed: after.filter((d) => old.has(d.name) && JSON.stringify(old.get(d.name)) !== JSON.stringify(d)),
    removed: before.filter((d) => !names.has(d.name)).map((d) => d.name),
  };
}
