import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTemplate } from '../../src/templates/schema.js';
import type { Json } from '../../src/json.js';

function template(resourceBounds: Json | undefined, resources: Json): Json {
  return {
    apiVersion: 'sidekick.dev/v1alpha1',
    kind: 'SidecarTemplate',
    metadata: { name: 't' },
    spec: {
      description: 't',
      ...(resourceBounds === undefined ? {} : { resourceBounds }),
      container: { image: 'registry.example/t:1', resources },
    },
  };
}

const OWN = { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } };

describe('spec.resourceBounds', () => {
  const cases: [string, Json | undefined, Json, RegExp[]][] = [
    ['none', undefined, OWN, []],
    [
      'cpu and memory, YAML numbers too',
      { cpu: { minimum: '10m', maximum: 2 }, memory: { minimum: '32Mi', maximum: '1Gi' } },
      OWN,
      [],
    ],
    [
      'an unknown resource',
      { gpu: { minimum: 0, maximum: 1 } },
      OWN,
      [/spec.resourceBounds.gpu: unknown resource/],
    ],
    [
      'not a quantity',
      { cpu: { minimum: 'ten', maximum: 2 } },
      OWN,
      [/resourceBounds.cpu.minimum: is not a Kubernetes quantity/],
    ],
    [
      'minimum above maximum',
      { cpu: { minimum: '2', maximum: '1500m' } },
      OWN,
      [/minimum: is larger than maximum \(2 > 1500m\)/],
    ],
    ['negative', { memory: { minimum: '-1Mi', maximum: '1Gi' } }, OWN, [/must not be negative/]],
    [
      'missing maximum',
      { memory: { minimum: '1Mi' } },
      OWN,
      [/memory.maximum: is not a Kubernetes quantity/],
    ],
    [
      'an unknown field',
      { cpu: { minimum: '1m', maximum: '1', step: '1m' } },
      OWN,
      [/cpu.step: unknown field/],
    ],
    [
      "the template's own value outside its bounds",
      { memory: { minimum: '64Mi', maximum: '1Gi' } },
      OWN,
      [/resources.requests.memory: 32Mi is outside spec.resourceBounds.memory \(64Mi to 1Gi\)/],
    ],
    [
      "the template's request above its limit",
      undefined,
      { requests: { cpu: '2' }, limits: { cpu: '1' } },
      [/resources.requests.cpu: 2 is more than limits.cpu 1/],
    ],
    [
      'a placeholder in resources',
      undefined,
      { requests: { cpu: '{{ cpu }}' } },
      [/requests.cpu: is not a Kubernetes quantity/],
    ],
  ];
  for (const [name, bounds, resources, want] of cases) {
    it(name, () => {
      const { problems } = parseTemplate(template(bounds, resources), 't.yaml');
      const relevant = problems.filter((p) => !p.includes('undeclared parameter'));
      assert.equal(relevant.length, want.length, relevant.join('\n'));
      want.forEach((re, i) => {
        assert.match(relevant[i] ?? '', re);
      });
    });
  }

  it('gives every template the four resource parameters, defaulting to its own values', () => {
    const { template: t } = parseTemplate(
      template(
        { cpu: { minimum: '10m', maximum: '2' } },
        { requests: { cpu: '0.02' }, limits: { memory: 134217728 } },
      ),
      't.yaml',
    );
    const byName = new Map(t?.parameters.map((p) => [p.name, p]));
    assert.deepEqual(byName.get('requests.cpu'), {
      name: 'requests.cpu',
      type: 'quantity',
      required: false,
      description: "the sidecar's cpu request, from 10m to 2",
      quantityMinimum: '10m',
      quantityMaximum: '2',
      default: '20m',
    });
    // A plain number of bytes stays decimal, as the apiserver writes it.
    assert.equal(byName.get('limits.memory')?.default, '134217728');
    assert.equal(byName.get('limits.cpu')?.default, undefined);
    assert.match(
      byName.get('requests.memory')?.description ?? '',
      /fixed: the template sets no resourceBounds.memory/,
    );
  });
});
