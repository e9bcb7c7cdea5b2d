// '{{ sidekick.image }}': the one placeholder a template holds outside its parameters, standing
// for the server's --image, and only as the whole of spec.container.image.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_IMAGE } from '../../src/identity.js';
import { parseTemplateFiles } from '../../src/templates/load.js';
import { repoPath } from '../support/paths.js';

const watcher = readFileSync(repoPath('templates/config-watcher.yaml'), 'utf8');
const file = (text: string): { path: string; text: string }[] => [{ path: 'x/config-watcher.yaml', text }];

describe('{{ sidekick.image }}', () => {
  it('is the server image given, by default this version’s', () => {
    assert.match(watcher, /^ {4}image: '\{\{ sidekick\.image \}\}'$/m);
    const plain = parseTemplateFiles(file(watcher), 'x');
    const other = parseTemplateFiles(file(watcher), 'x', { image: 'registry.example/sk:2' });
    assert.ok(plain.ok && other.ok);
    assert.equal(plain.set.templates.get('config-watcher')?.container.image, DEFAULT_IMAGE);
    assert.equal(other.set.templates.get('config-watcher')?.container.image, 'registry.example/sk:2');
    // The image is part of what the templates' hash stands for (the status annotation, check).
    assert.notEqual(plain.set.hash, other.set.hash);
  });

  it('is refused anywhere but the whole image, naming the file and the field', () => {
    const cases: [string, string][] = [
      [
        watcher.replace("image: '{{ sidekick.image }}'", "image: '{{ sidekick.image }}-debug'"),
        'spec.container.image',
      ],
      [
        watcher.replace('      - watch\n', "      - watch\n      - '--x={{ sidekick.image }}'\n"),
        'spec.container.args[1]',
      ],
      [
        watcher.replace(/^ {2}description: .*$/m, "  description: 'uses {{sidekick.image}}'"),
        'spec.description',
      ],
    ];
    for (const [text, path] of cases) {
      assert.notEqual(text, watcher, path);
      const load = parseTemplateFiles(file(text), 'x');
      assert.ok(!load.ok, path);
      assert.ok(
        load.problems.includes(
          `x/config-watcher.yaml: ${path}: {{ sidekick.image }} stands only as the whole of spec.container.image`,
        ),
        load.problems.join('\n'),
      );
    }
  });

  it('stays a problem for other templates: parameters never pick an image', () => {
    const load = parseTemplateFiles(file(watcher.replace("'{{ sidekick.image }}'", "'{{ url }}'")), 'x');
    assert.ok(!load.ok);
    assert.ok(
      load.problems.some((p) => p.includes('parameters can never pick an image')),
      load.problems.join('\n'),
    );
  });
});
