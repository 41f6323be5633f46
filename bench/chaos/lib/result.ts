/** What a scenario reports: its figures and the checks that decide PASS or FAIL. */

export interface Check {
  name: string;
  pass: boolean;
  /** The figure and the criterion, e.g. `lost 0 (must be 0)`. */
  detail: string;
}

export interface ScenarioOutcome {
  figures: Record<string, number | string | Record<string, number>>;
  checks: Check[];
  notes?: string[];
}

export interface ScenarioResult extends ScenarioOutcome {
  scenario: string;
  pass: boolean;
  durationMs: number;
  /** Why the scenario ended early (its time bound, an exception), if it did. */
  error?: string;
  /** The scratch directory with the processes' logs, kept when the scenario failed. */
  logsKeptIn?: string;
}

export function check(name: string, pass: boolean, detail: string): Check {
  return { name, pass, detail };
}

/** Parameters every scenario reads; scaled by `--bound-scale` on a loaded machine. */
export interface ChaosParams {
  /** Multiplies every time bound (default 1; try 2 on a busy machine). */
  boundScale: number;
  /** Share of event keys whose handler kills its worker (default 1). */
  poisonPercent: number;
}

export function scaled(params: ChaosParams, ms: number): number {
  return Math.round(ms * params.boundScale);
}
