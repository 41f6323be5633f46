/**
 * `lightbus codegen`: JSON Schema forms (those Python Lightbus publishes first) become the
 * TypeScript types a caller needs, the declaration file is deterministic, and code compiled
 * against it accepts right calls and rejects wrong ones.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { generateDeclarations, selectApis } from '../../src/schema/codegen.js';
import { TypeWriter } from '../../src/schema/json-schema-to-ts.js';
import type { Direction } from '../../src/schema/schema-docs.js';
import { docLines } from '../../src/schema/schema-docs.js';
import { pythonStoreSchema } from './fixtures/python-schemas.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const typeOf = (schema: unknown, direction: Direction = 'send') => new TypeWriter().typeOf(schema, direction, 'T');

test('scalar, union, enum and const forms', () => {
  const cases: Array<[unknown, string]> = [
    [{ type: 'string' }, 'string'],
    [{ type: 'integer' }, 'number'],
    [{ type: 'number' }, 'number'],
    [{ type: 'boolean' }, 'boolean'],
    [{ type: 'null' }, 'null'],
    [{ type: ['string', 'null'] }, 'string | null'],
    [{ type: ['integer', 'number'] }, 'number'],
    [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, 'number | string'],
    [{ oneOf: [{ const: 'a' }, { const: 1 }] }, "'a' | 1"],
    [{ type: 'string', enum: ['red', 'green'], default: 'red' }, "'red' | 'green'"],
    [{ enum: [1, null, "it's", true] }, "1 | null | 'it\\'s' | true"],
    [{ const: { b: 1, 'a-b': [true] } }, "{ 'a-b': [true]; b: 1 }"],
    [{ anyOf: [{ type: 'string' }, {}] }, 'unknown'],
    [{}, 'unknown'],
    [true, 'unknown'],
    [false, 'never'],
    [{ type: 'no-such-type' }, 'unknown'],
    [{ not: { type: 'string' } }, 'unknown'],
    [{ allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }, { type: 'object', additionalProperties: { type: 'number' } }] }, '{\n  a: string;\n} & Record<string, number>'],
  ];
  for (const [schema, expected] of cases) assert.equal(typeOf(schema), expected, JSON.stringify(schema));
});

test('objects: required, optional, quoted names, additionalProperties as boolean or schema, patternProperties', () => {
  const nested = {
    type: 'object',
    title: 'Address',
    properties: {
      street: { type: 'string' },
      'post-code': { type: 'string', description: 'As written on the envelope' },
      geo: { type: 'object', properties: { lat: { type: 'number' } }, required: ['lat'], additionalProperties: false },
    },
    required: ['street', 'geo'],
    additionalProperties: false,
  };
  assert.equal(
    typeOf(nested),
    ['{', '  geo: {', '    lat: number;', '  };', '  /** As written on the envelope */', "  'post-code'?: string;", '  street: string;', '}'].join('\n'),
  );
  assert.equal(typeOf({ type: 'object' }), 'Record<string, unknown>');
  assert.equal(typeOf({ type: 'object', additionalProperties: { type: 'integer' } }), 'Record<string, number>');
  assert.equal(typeOf({ type: 'object', properties: {}, additionalProperties: false }), 'Record<string, never>');
  // TypeBox's Type.Record(Type.String(), ...)
  assert.equal(typeOf({ type: 'object', patternProperties: { '^(.*)$': { type: 'integer' } } }), 'Record<string, number>');
  // `**kwargs` in Python: named parameters plus anything else.
  assert.equal(typeOf({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: true }), '{\n  a: string;\n  [key: string]: unknown;\n}');
  // An index signature must admit the named properties' types too.
  assert.equal(
    typeOf({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'boolean' } }),
    '{\n  a?: string;\n  [key: string]: boolean | string;\n}',
  );
  // Without `type`, `properties` still means an object.
  assert.equal(typeOf({ properties: { a: { type: 'null' } }, additionalProperties: false }), '{\n  a?: null;\n}');
});

test('arrays and tuples: items, prefixItems (Python), items as an array with additionalItems (draft-07, TypeBox)', () => {
  assert.equal(typeOf({ type: 'array', items: { type: 'string' } }), 'string[]');
  assert.equal(typeOf({ type: 'array', items: { type: 'array', items: { type: 'integer' } } }), 'number[][]');
  assert.equal(typeOf({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } }), 'Array<string | null>');
  assert.equal(typeOf({ type: 'array' }), 'unknown[]');
  assert.equal(typeOf({ type: 'array', maxItems: 2, minItems: 2, prefixItems: [{ type: 'integer' }, { type: 'string' }] }), '[number, string]');
  assert.equal(typeOf({ type: 'array', prefixItems: [{ type: 'integer' }], items: false, minItems: 1 }), '[number]');
  assert.equal(typeOf({ type: 'array', prefixItems: [{ type: 'integer' }], items: { type: 'string' }, minItems: 1 }), '[number, ...string[]]');
  assert.equal(typeOf({ type: 'array', items: [{ type: 'integer' }, { type: 'string' }], additionalItems: false, minItems: 2, maxItems: 2 }), '[number, string]');
  assert.equal(typeOf({ type: 'array', items: [{ type: 'integer' }, { type: ['string', 'null'] }], minItems: 1 }), '[number, (string | null)?, ...unknown[]]');
  assert.equal(typeOf({ type: 'array', items: [{ type: 'integer' }], additionalItems: { type: 'boolean' }, minItems: 1 }), '[number, ...boolean[]]');
});

test('dates and bytes: text on the wire, a Date or bytes accepted when sending, revived only where the schema says so', () => {
  const dateTime = { type: 'string', format: 'date-time' };
  assert.equal(typeOf(dateTime, 'send'), 'string | Date');
  assert.equal(typeOf(dateTime, 'receive'), 'string');
  assert.equal(typeOf({ anyOf: [dateTime, { type: 'null' }] }, 'send'), 'string | Date | null');
  // Schemas published by a TypeScript server declared with DateTime()/Bytes().
  assert.equal(typeOf({ ...dateTime, 'x-lightbus-revive': 'date' }, 'receive'), 'Date');
  const bytes = { type: 'string', contentEncoding: 'base64', 'x-lightbus-revive': 'bytes' };
  assert.equal(typeOf(bytes, 'send'), 'string | Uint8Array');
  assert.equal(typeOf(bytes, 'receive'), 'Uint8Array');
  assert.equal(typeOf({ type: 'string', format: 'date' }, 'send'), 'string');
});

test('$ref: definitions are inlined, recursion gets a named type, unresolvable refs are unknown', () => {
  const address = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
  assert.equal(typeOf({ type: 'object', properties: { home: { $ref: '#/definitions/Address' } }, required: ['home'], additionalProperties: false, definitions: { Address: address } }), '{\n  home: {\n    city: string;\n  };\n}');
  assert.equal(typeOf({ $ref: '#/$defs/Nope' }), 'unknown');
  assert.equal(typeOf({ $ref: 'https://example.com/elsewhere.json' }), 'unknown');

  const writer = new TypeWriter();
  const tree = {
    type: 'object',
    properties: { root: { $ref: '#/definitions/tree_node' } },
    required: ['root'],
    additionalProperties: false,
    definitions: {
      tree_node: { type: 'object', properties: { id: { type: 'string' }, children: { type: 'array', items: { $ref: '#/definitions/tree_node' } } }, required: ['id'], additionalProperties: false },
    },
  };
  assert.equal(writer.typeOf(tree, 'send', 'ShopTreeParams'), '{\n  root: ShopTreeParamsTreeNode;\n}');
  // TypeBox's Type.Recursive: a `$ref` to an `$id`.
  const recursive = { $id: 'T0', type: 'object', required: ['id'], properties: { id: { type: 'string' }, next: { $ref: 'T0' } }, additionalProperties: false };
  assert.equal(writer.typeOf(recursive, 'receive', 'ShopListResult'), 'ShopListResultSelf');
  assert.deepEqual(writer.typeAliases, [
    { name: 'ShopListResultSelf', type: '{\n  id: string;\n  next?: ShopListResultSelf;\n}' },
    { name: 'ShopTreeParamsTreeNode', type: '{\n  children?: ShopTreeParamsTreeNode[];\n  id: string;\n}' },
  ]);
});

test('TSDoc carries titles, descriptions, formats, constraints and defaults, but not the automatic titles', () => {
  assert.deepEqual(docLines({ title: 'RPC shop.ping() parameters', type: 'object' }, 'send'), []);
  assert.deepEqual(docLines({ title: 'Address', description: 'Where to ship.\nNo PO boxes.' }, 'send'), ['Address', 'Where to ship.', 'No PO boxes.']);
  assert.deepEqual(docLines({ anyOf: [{ type: 'string', format: 'date-time', default: null }, { type: 'null', default: null }] }, 'send'), [
    'Format: date-time, ISO-8601 text such as `2024-01-31T12:00:00Z`; a `Date` is converted before sending.',
    '@defaultValue `null`',
  ]);
  assert.deepEqual(docLines({ type: 'integer', minimum: 1, pattern: 'x' }, 'receive'), ['Constraints: integer, pattern `x`, minimum 1.']);
});

test('the declaration file augments RemoteRpcs and RemoteEvents of lightbus, with every member of a Python API', () => {
  const { text, apis, rpcCount, eventCount } = generateDeclarations({ py_store: pythonStoreSchema('py_store') });
  assert.deepEqual(apis, ['py_store']);
  assert.equal(rpcCount, 3);
  assert.equal(eventCount, 1);
  assert.match(text, /^export \{\};$/m);
  assert.match(text, /^declare module 'lightbus' \{$/m);
  const placeOrder = text.slice(text.indexOf("    'py_store.place_order': {"), text.indexOf("    'py_store.totals'"));
  assert.equal(
    placeOrder.trimEnd(),
    [
      "    'py_store.place_order': {",
      '      params: {',
      '        /** Address */',
      '        address: {',
      '          city: string;',
      '          /** @defaultValue `null` */',
      '          postcode?: string | null;',
      '          street: string;',
      '        };',
      '        /** @defaultValue `"red"` */',
      "        colour?: 'red' | 'green';",
      '        /** @defaultValue `false` */',
      '        gift?: boolean;',
      '        /** @defaultValue `null` */',
      '        pair?: [number, string] | null;',
      '        /** Constraints: pattern `^-?\\d+(\\.\\d+)?$`. */',
      '        price: string;',
      '        /** Constraints: integer. */',
      '        quantity: number;',
      '        sku: string;',
      '        /** @defaultValue `null` */',
      '        tags?: Record<string, number> | null;',
      '        [key: string]: unknown;',
      '      };',
      '      /** Format: date-time, ISO-8601 text such as `2024-01-31T12:00:00Z`. */',
      '      result: string | null;',
      '    };',
      '    /** RPC `py_store.totals()`. */',
    ].join('\n'),
  );
  assert.match(text, /'py_store\.ping': \{\n {6}params: Record<string, never>;\n {6}result: unknown;/);
  assert.match(text, /'py_store\.totals': \{\n {6}params: \{\n {8}by: number \| string;\n {6}\};\n {6}result: Record<string, number\[\]>;/);
  assert.match(text, /interface RemoteEvents \{\n {4}\/\*\* Event `py_store\.order_placed`\. \*\/\n {4}'py_store\.order_placed': \{/);
  assert.match(text, /order_id: unknown;/);
  assert.match(text, /placed_at: string \| Date;/);
});

test('the output depends only on the schemas: key order does not matter', () => {
  const reversed = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reversed);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  };
  const schemas = { b_api: pythonStoreSchema('b_api'), a_api: pythonStoreSchema('a_api') };
  const first = generateDeclarations(schemas).text;
  assert.equal(generateDeclarations(reversed(schemas) as Record<string, unknown>).text, first);
  assert.ok(first.indexOf("'a_api.ping'") < first.indexOf("'b_api.ping'"));
});

test('selectApis picks the APIs asked for and names the missing ones', () => {
  const schemas = { a: {}, b: {} };
  assert.deepEqual(selectApis(schemas, []), { selected: schemas, missing: [] });
  assert.deepEqual(selectApis(schemas, ['b', 'c']), { selected: { b: {} }, missing: ['c'] });
});

test('code compiled against generated declarations: right calls compile, wrong calls fail with the reason', { timeout: 120_000 }, async () => {
  const dir = join(repoRoot, 'test', `.tmp-codegen-${randomUUID().slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  try {
    const recursive = {
      rpcs: {
        grow: {
          parameters: {
            type: 'object',
            additionalProperties: false,
            required: ['root'],
            properties: { root: { $ref: '#/definitions/Node' } },
            definitions: { Node: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string' }, children: { type: 'array', items: { $ref: '#/definitions/Node' } } } } },
          },
          response: { type: 'string', format: 'date-time', 'x-lightbus-revive': 'date' },
        },
      },
      events: {},
    };
    writeFileSync(join(dir, 'remote.d.ts'), generateDeclarations({ py_store: pythonStoreSchema('py_store'), 'ts.tree': recursive }).text);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          paths: { lightbus: ['../../src/index.ts'] },
        },
        files: ['remote.d.ts', 'right.ts', 'wrong.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'right.ts'),
      `import { createBus } from 'lightbus';
const bus = createBus();
export async function right(): Promise<void> {
  const placedAt: string | null = await bus.call('py_store.place_order', {
    sku: 'a', quantity: 2, price: '9.99', address: { street: '1 Way', city: 'Town' },
    pair: [1, 'x'], tags: { a: 1 }, colour: 'green', coupon: 'any extra keyword',
  });
  const totals: Record<string, number[]> = await bus.call('py_store.totals', { by: 'day' });
  const pong: unknown = await bus.call('py_store.ping', {});
  await bus.fire('py_store.order_placed', { order_id: 7, placed_at: new Date(), items: ['a'] });
  await bus.fire('py_store.order_placed', { order_id: 'x', placed_at: '2024-01-31T12:00:00Z', items: [], note: null });
  const grown: Date = await bus.call('ts.tree.grow', { root: { id: 'r', children: [{ id: 'c', children: [] }] } });
  await bus.call('not_generated.anything', { whatever: 1 });
  void [placedAt, totals, pong, grown];
}
`,
    );
    // Each wrong call is on its own line, tagged with the text its error must contain.
    const wrongCalls: Array<[string, string]> = [
      [`await bus.call('py_store.place_order', { sku: 'a', quantity: '2', price: '1', address: { street: 's', city: 'c' } });`, `Type 'string' is not assignable to type 'number'`],
      [`await bus.call('py_store.place_order', { sku: 'a', quantity: 2, price: '1' });`, `Property 'address' is missing`],
      [`await bus.call('py_store.place_order', { sku: 'a', quantity: 2, price: '1', address: { street: 's', city: 'c' }, colour: 'blue' });`, `Type '"blue"' is not assignable to type '"green" | "red"`],
      [`await bus.call('py_store.place_order', { sku: 'a', quantity: 2, price: '1', address: { street: 's', city: 'c' }, pair: [1, 2] });`, `Type 'number' is not assignable to type 'string'`],
      [`await bus.call('py_store.place_order', { sku: 'a', quantity: 2, price: '1', address: { street: 's' } });`, `Property 'city' is missing`],
      [`const total: number = await bus.call('py_store.totals', { by: 1 }); void total;`, `Type 'Record<string, number[]>' is not assignable to type 'number'`],
      [`await bus.fire('py_store.order_placed', { order_id: 1, placed_at: 5, items: [] });`, `Type 'number' is not assignable to type 'string | Date'`],
      [`await bus.call('py_store.ping', { unexpected: 1 });`, `Type 'number' is not assignable to type 'never'`],
      [`await bus.call('ts.tree.grow', { root: { id: 'r', children: [{ children: [] }] } });`, `Property 'id' is missing`],
    ];
    const header = `import { createBus } from 'lightbus';\nconst bus = createBus();\nexport async function wrong(): Promise<void> {\n`;
    writeFileSync(join(dir, 'wrong.ts'), `${header}${wrongCalls.map(([line]) => `  ${line}\n`).join('')}}\n`);
    const firstLine = header.split('\n').length;

    const output = await runTsc(dir);
    const errors = parseTscErrors(output);
    assert.deepEqual(
      errors.filter((e) => e.file !== 'wrong.ts'),
      [],
      `the right calls and the declarations compile:\n${output}`,
    );
    const byLine = new Map(errors.filter((e) => e.file === 'wrong.ts').map((e) => [e.line, e.text]));
    wrongCalls.forEach(([call, reason], index) => {
      const text = byLine.get(firstLine + index);
      assert.ok(text, `this wrong call compiled: ${call}\n${output}`);
      assert.ok(text.includes(reason), `the error for ${call} does not say "${reason}":\n${text}`);
    });
    assert.equal(byLine.size, wrongCalls.length, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function runTsc(dir: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: dir, timeout: 110_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // tsc exits 2 when there are type errors: that is the expected outcome here.
        if (error && typeof error.code !== 'number') reject(error);
        else resolvePromise(`${stdout}${stderr}`);
      },
    );
  });
}

function parseTscErrors(output: string): Array<{ file: string; line: number; text: string }> {
  const errors: Array<{ file: string; line: number; text: string }> = [];
  for (const line of output.split('\n')) {
    const match = /^(.+?)\((\d+),\d+\): error (.*)$/.exec(line);
    if (match) errors.push({ file: match[1]!.split(/[\\/]/).pop()!, line: Number(match[2]), text: match[3]! });
    else if (line.startsWith(' ') && errors.length) errors[errors.length - 1]!.text += `\n${line}`;
  }
  return errors;
}
