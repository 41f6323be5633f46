/**
 * An event as the dashboard sends it to a page: the inspect row, with parameters too large
 * to show left out (and their size said), so one huge event cannot swell every page's stream.
 */
import type { EventRow } from '../inspect/events.js';

/** Parameters longer than this, as JSON, are left out. */
export const MAX_SHOWN_PARAMS_CHARS = 16_000;

export interface ShownEvent extends EventRow {
  /** The JSON length of parameters that were left out. */
  paramsOmitted?: number;
}

export function boundEventRow(row: EventRow): ShownEvent {
  if (row.params === undefined) return row;
  const length = JSON.stringify(row.params).length;
  if (length <= MAX_SHOWN_PARAMS_CHARS) return row;
  const { params: _omitted, ...rest } = row;
  return { ...rest, paramsOmitted: length };
}
