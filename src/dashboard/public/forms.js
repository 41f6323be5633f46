// JSON Schemas (as published on the bus) as people read them, and RPC parameters as forms.
// The server checks the parameters against the same schema before calling, and the form
// shows what it found next to each field.
import { h } from './dom.js';

/** A short reading of a schema: "string", "integer ≥ 0", "one of a, b", "array of string". */
export function describeType(schema) {
  if (schema === true || schema === undefined || schema === null) return 'any';
  if (schema === false) return 'nothing';
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if ('const' in schema) return JSON.stringify(schema.const);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return alternatives.map(describeType).join(' or ');
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type;
  if (type === 'array') return `array of ${describeType(schema.items)}`;
  if (type === 'object' && schema.properties) {
    const required = new Set(schema.required ?? []);
    return `{ ${Object.entries(schema.properties).map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${describeType(v)}`).join(', ')} }`;
  }
  const bounds = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) bounds.push(`length ≥ ${schema.minLength}`);
  if (schema.maxLength !== undefined) bounds.push(`length ≤ ${schema.maxLength}`);
  if (schema.format) bounds.push(schema.format);
  return [type ?? 'any', ...bounds].join(' ');
}

/** The kind of input a parameter gets. */
function inputKind(schema) {
  if (schema && Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === 'string')) return 'enum';
  const type = schema?.type;
  if (type === 'string') return 'string';
  if (type === 'integer' || type === 'number') return 'number';
  if (type === 'boolean') return 'boolean';
  return 'json';
}

/** One labelled field per parameter; `read()` gives the values (absent when left empty), or throws naming a bad field. */
export function parameterFields(parameters) {
  const properties = parameters?.properties ?? {};
  const required = new Set(parameters?.required ?? []);
  const fields = Object.entries(properties).map(([name, schema]) => field(name, schema, required.has(name)));
  const free = Object.keys(properties).length === 0 && parameters?.additionalProperties !== false;
  // No declared parameters (a peer that publishes none): one JSON object for all of them.
  const all = free ? field('(parameters as JSON)', { type: 'object' }, false, true) : undefined;
  return {
    nodes: [...fields.map((f) => f.node), all?.node],
    read() {
      if (all) {
        const value = all.read();
        return value === undefined ? {} : value;
      }
      const params = {};
      for (const f of fields) {
        const value = f.read();
        if (value !== undefined) params[f.name] = value;
      }
      return params;
    },
    showIssues(issues) {
      for (const f of [...fields, all].filter(Boolean)) f.setIssue(all ? issues : issues.filter((i) => i.path === `/${f.name}` || i.path.startsWith(`/${f.name}/`)));
    },
  };
}

function field(name, schema, required, whole = false) {
  const kind = inputKind(schema);
  const id = `f-${Math.random().toString(36).slice(2)}`;
  let input;
  if (kind === 'enum') input = h('select', { id, name }, h('option', { value: '' }, '(none)'), schema.enum.map((v) => h('option', { value: v }, v)));
  else if (kind === 'boolean') input = h('select', { id, name }, h('option', { value: '' }, '(none)'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
  else if (kind === 'number') input = h('input', { id, name, type: 'number', step: schema.type === 'integer' ? '1' : 'any' });
  else if (kind === 'string') input = h('input', { id, name, type: 'text', autocomplete: 'off', spellcheck: 'false' });
  else input = h('textarea', { id, name, rows: 2, spellcheck: 'false', placeholder: 'JSON' });
  const issue = h('span', { class: 'issue', role: 'alert' });
  const node = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, name, required ? h('span', { class: 'required', title: 'required' }, ' *') : null),
    input,
    h('span', { class: 'type' }, whole ? 'a JSON object' : describeType(schema)),
    issue,
  );
  return {
    name,
    node,
    read() {
      const text = input.value;
      if (text === '') return undefined;
      if (kind === 'string' || kind === 'enum') return text;
      if (kind === 'boolean') return text === 'true';
      if (kind === 'number') return Number(text);
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new Error(`${name}: not JSON (${error.message})`);
      }
    },
    setIssue(issues) {
      issue.textContent = issues.map((i) => `expected ${i.expected}, got ${i.received}`).join('; ');
      node.classList.toggle('invalid', issues.length > 0);
    },
  };
}
