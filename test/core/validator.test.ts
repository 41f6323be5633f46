import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { SchemaValidator } from '../../src/core/validator.js';
import { ValidationError } from '../../src/errors.js';

const context = { api: 'auth', member: 'check_password', what: 'parameters' };

function failure(validator: SchemaValidator, schema: object, value: unknown): ValidationError {
  try {
    validator.validate(schema, value, context);
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail('the value was accepted');
}

/** A parameters schema as Python Lightbus publishes it (draft-07, see the wire contract). */
const pythonParameters = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'RPC auth.check_password() parameters',
  type: 'object',
  additionalProperties: false,
  properties: {
    username: { type: 'string' },
    password: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    since: { type: 'string', format: 'date-time' },
    role: { type: 'string', enum: ['admin', 'user'] },
    address: {
      type: 'object',
      title: 'Address',
      properties: { street: { type: 'string' }, number: { type: 'integer' } },
      required: ['street'],
      additionalProperties: false,
    },
    scores: { type: 'object', additionalProperties: { type: 'number' } },
  },
  required: ['username', 'password'],
};

describe('SchemaValidator with TypeBox schemas', () => {
  const schema = Type.Object({ username: Type.String(), age: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false });

  test('accepts a matching value', () => {
    const validator = new SchemaValidator();
    assert.doesNotThrow(() => validator.validate(schema, { username: 'ann', age: 3 }, context));
    assert.equal(validator.isValid(schema, { username: 'ann' }), true);
    assert.deepEqual(validator.issues(schema, { username: 'ann' }), []);
  });

  test('names the API, member, path, expectation and value', () => {
    const error = failure(new SchemaValidator(), schema, { username: 42 });
    assert.equal(error.message, 'auth.check_password parameters: /username must be string, got 42');
    assert.equal(error.api, 'auth');
    assert.equal(error.member, 'check_password');
    assert.deepEqual(error.issues, [{ path: '/username', expected: 'string', received: '42' }]);
  });

  test('reports every problem', () => {
    const error = failure(new SchemaValidator(), schema, { age: -1, extra: true });
    assert.deepEqual(
      error.issues.map((i) => i.path).sort(),
      ['/age', '/extra', '/username'],
    );
    assert.match(error.message, /\/username is required but missing/);
    assert.match(error.message, /\/age must be >= 0, got -1/);
    assert.match(error.message, /\/extra is not allowed \(not in the schema\), got true/);
  });

  test('a non-object value at the root', () => {
    const error = failure(new SchemaValidator(), schema, 'hello');
    assert.equal(error.message, 'auth.check_password parameters: / must be object, got "hello"');
  });

  test('unions and literals', () => {
    const union = Type.Object({ mode: Type.Union([Type.Literal('fast'), Type.Literal('safe')]), note: Type.Union([Type.String(), Type.Null()]) });
    const error = failure(new SchemaValidator(), union, { mode: 'slow', note: 3 });
    assert.match(error.message, /\/mode must be "fast" or "safe", got "slow"/);
    assert.match(error.message, /\/note must be string or null, got 3/);
    assert.equal(error.issues.length, 2);
  });
});

describe('SchemaValidator with Python-style draft-07 schemas', () => {
  const good = {
    username: 'ann',
    password: null,
    since: '2024-05-01T12:30:00.123456+00:00',
    role: 'admin',
    address: { street: 'Main', number: 4 },
    scores: { a: 1.5, b: 2 },
  };

  test('accepts what Python sends, including a naive datetime', () => {
    const validator = new SchemaValidator();
    assert.doesNotThrow(() => validator.validate(pythonParameters, good, context));
    assert.equal(validator.isValid(pythonParameters, { ...good, since: '2024-05-01T12:30:00' }), true);
    assert.equal(validator.isValid(pythonParameters, { ...good, password: 'pw' }), true);
  });

  test('anyOf with null', () => {
    const error = failure(new SchemaValidator(), pythonParameters, { ...good, password: 5 });
    assert.equal(error.message, 'auth.check_password parameters: /password must be string or null, got 5');
  });

  test('date-time format', () => {
    const error = failure(new SchemaValidator(), pythonParameters, { ...good, since: 'yesterday' });
    assert.equal(error.message, 'auth.check_password parameters: /since must be a date-time string, got "yesterday"');
  });

  test('enums', () => {
    const error = failure(new SchemaValidator(), pythonParameters, { ...good, role: 'root' });
    assert.equal(error.message, 'auth.check_password parameters: /role must be one of "admin", "user", got "root"');
  });

  test('nested objects', () => {
    const error = failure(new SchemaValidator(), pythonParameters, { ...good, address: { number: 'four' } });
    assert.match(error.message, /\/address\/street is required but missing/);
    assert.match(error.message, /\/address\/number must be integer, got "four"/);
  });

  test('additionalProperties maps', () => {
    const error = failure(new SchemaValidator(), pythonParameters, { ...good, scores: { a: 1, b: 'high' } });
    assert.equal(error.message, 'auth.check_password parameters: /scores/b must be number, got "high"');
  });

  test('unknown keywords (2020-12 prefixItems) and unknown $schema are tolerated', () => {
    const validator = new SchemaValidator();
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }] };
    assert.equal(validator.isValid(schema, [1]), true);
    assert.equal(validator.isValid(schema, 'not an array'), false);
    const draft4 = { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', oneOf: [{ required: ['a'] }, { required: ['b'] }] };
    assert.equal(validator.isValid(draft4, { a: 1 }), true);
    assert.equal(validator.isValid(draft4, { a: 1, b: 2 }), false);
  });

  test('long values are shortened in messages', () => {
    const error = failure(new SchemaValidator(), pythonParameters, { ...good, username: { text: 'x'.repeat(500) } });
    assert.ok(error.message.length < 200, error.message);
    assert.match(error.message, /…$/);
  });
});

describe('SchemaValidator compiles each schema once', () => {
  test('the same schema object reuses its compiled function', () => {
    const validator = new SchemaValidator();
    const schema = Type.Object({ a: Type.String() });
    for (let i = 0; i < 100; i++) validator.isValid(schema, { a: String(i) });
    assert.throws(() => validator.validate(schema, { a: 1 }, context), ValidationError);
    assert.equal(validator.compileCount, 1);
    assert.equal(validator.compile(schema), validator.compile(schema));
  });

  test('schemas with the same JSON text share a compiled function (schemas reloaded from Redis)', () => {
    const validator = new SchemaValidator();
    const text = JSON.stringify(pythonParameters);
    const first = validator.compile(JSON.parse(text) as object);
    const second = validator.compile(JSON.parse(text) as object);
    assert.equal(first, second);
    assert.equal(validator.compileCount, 1);
    assert.equal(validator.cachedTextCount, 1);
    validator.compile({ type: 'string' });
    assert.equal(validator.compileCount, 2);
    assert.equal(validator.cachedTextCount, 2);
  });

  test('the by-text cache is bounded', () => {
    const validator = new SchemaValidator({ maxTextEntries: 3 });
    for (let i = 0; i < 10; i++) validator.compile({ type: 'integer', minimum: i });
    assert.equal(validator.cachedTextCount, 3);
    assert.equal(validator.compileCount, 10);
  });

  test('schemas with the same $id do not collide', () => {
    const validator = new SchemaValidator();
    const a = { $id: 'https://example.com/s', type: 'string' };
    const b = { $id: 'https://example.com/s', type: 'number' };
    assert.equal(validator.isValid(a, 'x'), true);
    assert.equal(validator.isValid(b, 1), true);
    assert.equal(validator.isValid(b, 'x'), false);
  });

  test('boolean schemas', () => {
    const validator = new SchemaValidator();
    assert.equal(validator.isValid(true, { anything: 1 }), true);
    assert.equal(validator.isValid(false, 1), false);
  });
});
