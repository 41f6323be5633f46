import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeyValue, parseMemberName, parseParams, preferSchemaTypes, UsageError } from '../../src/cli/params.js';

describe('command-line parameters', () => {
  it('reads values as JSON where they parse, strings otherwise', () => {
    const { params } = parseParams(['n=7', 'ok=true', 'none=null', 'tags=["a","b"]', 'obj={"a":1}', 'name=ada', 'quoted="7"', 'empty=', 'eq=a=b']);
    assert.deepEqual(params, { n: 7, ok: true, none: null, tags: ['a', 'b'], obj: { a: 1 }, name: 'ada', quoted: '7', empty: '', eq: 'a=b' });
  });

  it('merges --params with key=value items, the items winning', () => {
    const { params, typed } = parseParams(['b=3'], '{"a": 1, "b": 2}');
    assert.deepEqual(params, { a: 1, b: 3 });
    assert.deepEqual(typed, { b: '3' });
  });

  it('rejects malformed input as usage errors', () => {
    assert.throws(() => parseParams(['novalue']), UsageError);
    assert.throws(() => parseParams(['=x']), UsageError);
    assert.throws(() => parseParams(['a=1', 'a=2']), /given twice/);
    assert.throws(() => parseParams([], '{not json'), /--params is not valid JSON/);
    assert.throws(() => parseParams([], '[1,2]'), /must be a JSON object/);
  });

  it('keeps a __proto__ key as data, never as the prototype', () => {
    const { params } = parseParams(['__proto__={"polluted":true}']);
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
    assert.deepEqual(Object.keys(params), ['__proto__']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('gives a string back where the schema wants a string and the JSON reading is not one', () => {
    const schema = {
      type: 'object',
      properties: {
        code: { type: 'string' },
        count: { type: 'integer' },
        either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
        flag: { type: ['string', 'null'] },
      },
    };
    const parsed = parseParams(['code=007', 'count=7', 'either=5', 'flag=true', 'other=1']);
    assert.deepEqual(preferSchemaTypes(parsed, schema), { code: '007', count: 7, either: 5, flag: 'true', other: 1 });
    // --params values were typed as JSON on purpose: left alone.
    assert.deepEqual(preferSchemaTypes(parseParams([], '{"code": 7}'), schema), { code: 7 });
    assert.deepEqual(preferSchemaTypes(parsed, undefined), parsed.params);
  });

  it('splits member names at the last dot', () => {
    assert.deepEqual(parseMemberName('auth.check_password'), { api: 'auth', member: 'check_password' });
    assert.deepEqual(parseMemberName('my_company.auth.check'), { api: 'my_company.auth', member: 'check' });
    for (const bad of ['auth', '.x', 'auth.']) assert.throws(() => parseMemberName(bad), UsageError);
  });

  it('parses a single key=value with its typed text', () => {
    assert.deepEqual(parseKeyValue('n=07'), { key: 'n', value: '07', text: '07' });
    assert.deepEqual(parseKeyValue('n=7'), { key: 'n', value: 7, text: '7' });
  });
});
