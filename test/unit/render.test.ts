import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holds, render } from '../../src/inject/render.js';
import type { Json } from '../../src/json.js';
import type { ParameterValue } from '../../src/templates/types.js';

const values = new Map<string, ParameterValue>([
  ['port', 5432],
  ['flag', true],
  ['off', false],
  ['name', 'web'],
  ['list', ['a', 'b']],
  ['empty', ''],
  ['url', 'https://logs.example.com/ingest?x=1'],
  ['bare', 'https://[fd00::1]'],
  ['fwd', 'forward://fluentd:24224'],
  ['dollar', 'a$(SECRET)b'],
  ['braces', '{{ port }}'],
  ['pairs', ['a=1', 'b', 'c= x=y ']],
  ['none', []],
  ['hp', '[::1]:4317'],
]);

describe('render', () => {
  const cases: [string, Json, Json][] = [
    ['a whole placeholder keeps its type', '{{ port }}', 5432],
    ['a boolean stays a boolean', '{{flag}}', true],
    ['text around a placeholder', '--port={{ port }}', '--port=5432'],
    ['a list joins with commas', '{{ list }}', 'a,b'],
    ['an unset parameter is empty', 'x{{ missing }}y', 'xy'],
    ['a value is not expanded again', '{{ braces }}', '{{ port }}'],
    [
      'url parts',
      '{{ url.scheme }} {{ url.hostname }} {{ url.port }} {{ url.path }}',
      'https logs.example.com 443 /ingest?x=1',
    ],
    ['url without path or port', '{{ bare.hostname }}:{{ bare.port }}{{ bare.path }}', '[fd00::1]:443'],
    ['url of another scheme', '{{ fwd.hostname }}:{{ fwd.port }}', 'fluentd:24224'],
    ['url parts of a non-URL are empty', '[{{ name.hostname }}]', '[]'],
    ['host:port is read as https', '{{ hp.scheme }}://{{ hp.hostname }}:{{ hp.port }}', 'https://[::1]:4317'],
    [
      '$when keeps a list item',
      ['a', { $when: 'flag', $value: 'b' }, { $when: 'off', $value: 'c' }],
      ['a', 'b'],
    ],
    ['$when on a map item', [{ $when: '!off', k: '{{ name }}' }], [{ k: 'web' }]],
    [
      '$when on a map value',
      { keep: { $when: 'name=web', v: 1 }, drop: { $when: 'name=api', v: 2 } },
      { keep: { v: 1 } },
    ],
    [
      '$when list needs all',
      [
        { $when: ['flag', 'url^=https://'], $value: 1 },
        { $when: ['flag', 'off'], $value: 2 },
      ],
      [1],
    ],
    [
      'a list emptied by conditions is left out',
      { args: [{ $when: 'off', $value: 'x' }], keep: [] },
      { keep: [] },
    ],
    [
      '$json serialises after rendering',
      { env: { $json: { role: '{{ name }}', port: '{{ port }}', q: 'a"b' } } },
      { env: '{"role":"web","port":5432,"q":"a\\"b"}' },
    ],
    [
      'values in args are kept from kubelet expansion',
      { args: ['--x={{ dollar }}', '$(POD_IP)'] },
      { args: ['--x=a$$(SECRET)b', '$(POD_IP)'] },
    ],
    [
      'values in env values too',
      { env: [{ name: 'X', value: '{{ dollar }}' }] },
      { env: [{ name: 'X', value: 'a$$(SECRET)b' }] },
    ],
    [
      '$each repeats a tree per item, with its key, value and index',
      [
        'first',
        { $each: 'pairs', $value: { k: '{{ pairs.key }}', v: '{{ pairs.value }}', i: '{{ pairs.index }}' } },
      ],
      ['first', { k: 'a', v: '1', i: '0' }, { k: 'b', v: '', i: '1' }, { k: 'c', v: 'x=y', i: '2' }],
    ],
    [
      '$each of a list value spreads it; the list parameter is the item',
      [{ $each: 'list', $value: ['-f', '/{{ list }}'] }],
      ['-f', '/a', '-f', '/b'],
    ],
    [
      '$each of an empty list or under a false $when gives nothing',
      { a: [{ $each: 'none', $value: 'x' }], b: [{ $each: 'list', $when: 'off', $value: 'x' }], c: ['y'] },
      { c: ['y'] },
    ],
    ['item parts outside $each are empty', '[{{ list.key }}]', '[]'],
    [
      'values elsewhere are plain',
      { image: 'x', volumeMounts: [{ mountPath: '/{{ dollar }}' }] },
      { image: 'x', volumeMounts: [{ mountPath: '/a$(SECRET)b' }] },
    ],
  ];
  for (const [name, tree, want] of cases) {
    it(name, () => {
      assert.deepEqual(render(tree, values), want);
    });
  }

  // Templates are compiled once and rendered for every Pod: nothing may leak from one to the next.
  it('renders the same tree afresh for each set of values', () => {
    const tree: Json = {
      args: ['--name={{ name }}', { $when: 'flag', $value: '--flag' }],
      mounts: [{ name: 'm', mountPath: '/static' }],
    };
    const first = render(tree, values);
    assert.ok(typeof first === 'object' && first !== null && !Array.isArray(first));
    (first.mounts as { mountPath: string }[])[0]!.mountPath = '/changed';
    (first.args as string[]).push('--extra');
    const other = new Map<string, ParameterValue>([
      ['name', 'api'],
      ['flag', false],
    ]);
    assert.deepEqual(render(tree, other), {
      args: ['--name=api'],
      mounts: [{ name: 'm', mountPath: '/static' }],
    });
    assert.deepEqual(render(tree, values), {
      args: ['--name=web', '--flag'],
      mounts: [{ name: 'm', mountPath: '/static' }],
    });
    assert.deepEqual(tree.mounts, [{ name: 'm', mountPath: '/static' }]);
  });
});

describe('holds', () => {
  const cases: [Json, boolean][] = [
    ['flag', true],
    ['!flag', false],
    ['off', false],
    ['empty', false],
    ['list', true],
    ['missing', false],
    ['!missing', true],
    ['name=web', true],
    ['!name=web', false],
    ['url^=https://', true],
    ['!url^=https://', false],
    ['port=5432', true],
    [['flag', 'name=web'], true],
    [['flag', 'off'], false],
    ['Bad Condition', false],
  ];
  for (const [condition, want] of cases) {
    it(JSON.stringify(condition), () => {
      assert.equal(holds(condition, values), want);
    });
  }
});
