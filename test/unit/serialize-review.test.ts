import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowed, denied, patched, review, serializeReview } from '../../src/admission/index.js';

describe('serializeReview', () => {
  const patch = [
    { op: 'add' as const, path: '/metadata/annotations/a', value: 'x"patch":""y' },
    { op: 'add' as const, path: '/spec/initContainers/0', value: { name: 'é', args: ['ü', '\u2028'] } },
  ];
  const cases = [
    ['allowed, no patch', review(allowed('u1'))],
    ['refused', review(denied('u2', 400, 'bad "patch":"" here'))],
    ['patched', review(patched('u3', patch))],
    [
      'patched, with warnings and audit annotations that look like the slot',
      review(patched('"patch":""', patch, ['w "patch":"" w'], { sidecars: '"patch":""' })),
    ],
  ] as const;
  for (const [name, answer] of cases) {
    it(`${name}: the same JSON as JSON.stringify`, () => {
      const text = serializeReview(answer);
      assert.equal(text, JSON.stringify(answer));
      assert.deepEqual(JSON.parse(text), answer);
    });
  }

  it('the spliced patch decodes to the patch', () => {
    const answer = review(patched('u4', patch));
    const parsed = JSON.parse(serializeReview(answer)) as { response: { patch: string } };
    assert.deepEqual(JSON.parse(Buffer.from(parsed.response.patch, 'base64').toString('utf8')), patch);
  });
});
