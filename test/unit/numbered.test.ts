// Numbered lists (`numberFrom`): the numbering, its refusals naming the annotation, `{{ list.number }}`
// in templates, the schema's checks, and the ports a sidecar's annotations set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveParameters } from '../../src/inject/parameters.js';
import { sidecarPorts } from '../../src/inject/ports.js';
import { render } from '../../src/inject/render.js';
import { builtinTemplateDir } from '../../src/templates/load.js';
import { numberItems } from '../../src/templates/numbered.js';
import { parseTemplateFiles } from '../../src/templates/load.js';
import { fixtureTemplates, loadTemplateDirs, template } from '../support/templates.js';

const PORTS = { minimum: 1024, maximum: 65535 };

describe('numberItems', () => {
  const cases: [string, string[], number, number[] | RegExp][] = [
    ['counts on from the start', ['a', 'b', 'c'], 5432, [5432, 5433, 5434]],
    [
      'an item with its own number does not use one up',
      ['a=6000', 'b', 'c=7000', 'd'],
      5432,
      [6000, 5432, 7000, 5433],
    ],
    ['spaces around the number', ['a= 6000 '], 5432, [6000]],
    ['two items on one number', ['a=5433', 'b', 'c'], 5432, /^items 'a=5433' and 'c' both take 5433$/],
    ['two own numbers alike', ['a=6000', 'b=6000'], 5432, /^items 'a=6000' and 'b=6000' both take 6000$/],
    [
      'counting past the maximum',
      ['a', 'b'],
      65535,
      /^item 'b' would take 65536, not a number from 1024 to 65535$/,
    ],
    ['an own number out of bounds', ['a=80'], 5432, /^item 'a=80' has no number from 1024 to 65535 after =$/],
    ['an own number that is no number', ['a=x'], 5432, /^item 'a=x' has no number/],
  ];
  for (const [name, items, start, want] of cases) {
    it(name, () => {
      const got = numberItems(items, start, PORTS);
      if (want instanceof RegExp) {
        assert.deepEqual(got.numbers, []);
        assert.equal(got.problems.length, 1, JSON.stringify(got.problems));
        assert.match(got.problems[0]?.text ?? '', want);
      } else assert.deepEqual(got, { numbers: want, problems: [] });
    });
  }

  it('says whether a counted item is involved', () => {
    assert.deepEqual(
      numberItems(['a=5432', 'b'], 5432, PORTS).problems.map((p) => p.counted),
      [true],
    );
    assert.deepEqual(
      numberItems(['a=6000', 'b=6000'], 5432, PORTS).problems.map((p) => p.counted),
      [false],
    );
  });
});

const NUMBERED = template(
  'n',
  `  description: numbered
  parameters:
    item: { type: list, description: i, required: true, pattern: '[a-z]+(=[0-9]+)?', numberFrom: base }
    base: { type: integer, description: b, default: 8000, minimum: 1024, maximum: 65535 }
  container:
    image: img/n:1
    args: [{ $each: item, $value: '{{ item.key }}:{{ item.number }}' }]
    ports: [{ $each: item, $value: { name: 'n-{{ item.number }}', containerPort: '{{ item.number }}' } }]
    securityContext:
      runAsNonRoot: true
      allowPrivilegeEscalation: false
      capabilities: { drop: [ALL] }
      seccompProfile: { type: RuntimeDefault }
`,
);

describe('a numbered list parameter', () => {
  const n = fixtureTemplates({ 'n.yaml': NUMBERED }).templates.get('n');
  assert.ok(n);
  const resolve = (given: Record<string, string>) => {
    const problems: string[] = [];
    const { values } = resolveParameters(n, new Map(Object.entries(given)), 'sidekick.dev', problems);
    return { values, problems };
  };

  it('renders each item with its number, an integer where it is the whole value', () => {
    const { values, problems } = resolve({ item: 'a, b=9000, c', base: '7000' });
    assert.deepEqual(problems, []);
    assert.deepEqual(render(n.container, values), {
      image: 'img/n:1',
      args: ['a:7000', 'b:9000', 'c:7001'],
      ports: [
        { name: 'n-7000', containerPort: 7000 },
        { name: 'n-9000', containerPort: 9000 },
        { name: 'n-7001', containerPort: 7001 },
      ],
      securityContext: n.container.securityContext ?? null,
    });
  });

  it('refuses two items on one number, naming both annotations', () => {
    assert.deepEqual(resolve({ item: 'a=8001, b, c' }).problems, [
      "annotation sidekick.dev/n.item: items 'a=8001' and 'c' both take 8001 (items without =N take sidekick.dev/n.base, 8000, and on, in order)",
    ]);
  });

  it('is not numbered again when the start is refused', () => {
    const { problems } = resolve({ item: 'a, b', base: '80' });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /n\.base: value "80" is too small/);
  });

  it('the schema: numberFrom names an integer parameter with a value, .number needs it', () => {
    const load = parseTemplateFiles(
      [
        {
          path: 'bad.yaml',
          text: template(
            'bad',
            `  description: bad
  parameters:
    a: { type: list, description: a, numberFrom: b }
    b: { type: string, description: b, default: x }
    c: { type: integer, description: c, numberFrom: d }
    e: { type: list, description: e, default: [] }
  container:
    image: img/bad:1
    args: [{ $each: e, $value: '{{ e.number }}' }]
`,
          ),
        },
      ],
      'fixtures',
    );
    assert.ok(!load.ok);
    const problems = load.problems.join('\n');
    assert.match(problems, /spec\.parameters\.a\.numberFrom: must name an integer parameter/);
    assert.match(problems, /spec\.parameters\.c\.numberFrom: only a list has numberFrom/);
    assert.match(problems, /\.number needs a numbered list: 'e' has no numberFrom/);
  });
});

describe('sidecarPorts', () => {
  it("db-proxy's health port is fixed and its instance ports move with its annotations", async () => {
    const set = await loadTemplateDirs([builtinTemplateDir()]);
    const db = set.templates.get('db-proxy');
    const otel = set.templates.get('otel-collector');
    assert.ok(db && otel);
    assert.deepEqual(sidecarPorts(db, 'sidekick.dev'), {
      fixed: new Set([9801]),
      setBy: ['sidekick.dev/db-proxy.instance', 'sidekick.dev/db-proxy.port'],
    });
    assert.deepEqual(sidecarPorts(otel, 'sidekick.dev').setBy, []);
  });

  it('is worked out once per template and prefix', async () => {
    const set = await loadTemplateDirs([builtinTemplateDir()]);
    const db = set.templates.get('db-proxy');
    assert.ok(db);
    assert.equal(sidecarPorts(db, 'sidekick.dev'), sidecarPorts(db, 'sidekick.dev'));
    assert.deepEqual(sidecarPorts(db, 'example.com').setBy, [
      'example.com/db-proxy.instance',
      'example.com/db-proxy.port',
    ]);
  });
});
