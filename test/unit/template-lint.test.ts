import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { floatingImage, lintTemplate } from '../../src/templates/lint.js';
import type { JsonObject } from '../../src/json.js';
import type { SidecarTemplate } from '../../src/templates/types.js';

const MATURE: JsonObject = {
  name: 'agent',
  image: 'registry.example/agent:1.2.3',
  startupProbe: { httpGet: { path: '/ready', port: 9000 } },
  resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
  securityContext: { readOnlyRootFilesystem: true },
};

function without(key: string): JsonObject {
  return Object.fromEntries(Object.entries(MATURE).filter(([k]) => k !== key));
}

function template(container: JsonObject, runOnce: SidecarTemplate['runOnce'] = false): SidecarTemplate {
  return {
    name: 'agent',
    description: '',
    source: 'agent.yaml',
    parameters: [],
    requires: [],
    after: [],
    exactlyOneOf: [],
    shareProcessNamespace: false,
    runOnce,
    container,
    volumes: [],
    appMounts: [],
    watchable: [],
    resourceBounds: {},
    hash: '0',
  };
}

describe('floatingImage', () => {
  const cases: [string, RegExp | undefined][] = [
    ['registry.example/agent:1.2.3', undefined],
    ['registry.example:5000/agent:1.2.3', undefined],
    ['registry.example/agent@sha256:0123', undefined],
    ['registry.example/agent:latest@sha256:0123', undefined],
    ['registry.example/agent', /has no tag or digest/],
    ['registry.example:5000/agent', /has no tag or digest/],
    ['busybox', /has no tag or digest/],
    ['busybox:latest', /uses the tag latest/],
    ['registry.example:5000/team/agent:latest', /uses the tag latest/],
  ];
  for (const [image, want] of cases) {
    it(`${image}: ${want ? want.source : 'pinned'}`, () => {
      const got = floatingImage(image);
      if (want === undefined) assert.equal(got, undefined);
      else assert.match(got ?? '', want);
    });
  }
});

describe('lintTemplate', () => {
  const cases: [string, JsonObject, RegExp[]][] = [
    ['a mature container', MATURE, []],
    ['a floating image', { ...MATURE, image: 'agent:latest' }, [/image "agent:latest" uses the tag latest/]],
    ['no startupProbe', without('startupProbe'), [/has no startupProbe/]],
    ['no resources', without('resources'), [/requests has no cpu or memory/, /limits has no cpu or memory/]],
    [
      'a limit missing',
      { ...MATURE, resources: { requests: { cpu: '1m', memory: '1Mi' }, limits: { cpu: '1' } } },
      [/resources\.limits has no memory$/],
    ],
    [
      'a writable root filesystem',
      { ...MATURE, securityContext: {} },
      [/readOnlyRootFilesystem is not true/],
    ],
  ];
  for (const [name, container, want] of cases) {
    it(name, () => {
      const got = lintTemplate(template(JSON.parse(JSON.stringify(container)) as JsonObject));
      assert.equal(got.length, want.length, got.join('\n'));
      want.forEach((w, i) => {
        assert.match(got[i] ?? '', w);
      });
    });
  }

  it('lets a runOnce template omit the startupProbe, and not one that is a sidecar only sometimes', () => {
    const noProbe = without('startupProbe');
    assert.deepEqual(lintTemplate(template(noProbe, true)), []);
    assert.match(lintTemplate(template(noProbe, { whenSet: 'once' })).join('\n'), /has no startupProbe/);
  });
});
