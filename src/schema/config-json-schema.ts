/**
 * The configuration's JSON Schema as editors read it (`lightbus dumpconfigschema`): the same
 * TypeBox schema that validates config files at load time, as plain draft-07 JSON.
 */
import { LightbusConfigSchema } from '../config/schema.js';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** The JSON Schema of a lightbus config file, with `$schema` first. */
export function configJsonSchema(): Record<string, unknown> {
  // A JSON round trip drops TypeBox's symbol-keyed markers, leaving only JSON Schema keywords.
  const plain = JSON.parse(JSON.stringify(LightbusConfigSchema)) as Record<string, unknown>;
  return { $schema: DRAFT_07, ...plain };
}
