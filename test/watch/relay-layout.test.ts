// Relay mode's layout: the payload kubelet's volume plugins would build, and the files its
// AtomicWriter would leave, checked entry by entry (type, mode, link target, bytes).
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeAtomically } from '../../src/watch/atomic-writer.js';
import { readVolume } from '../../src/watch/volume-files.js';
import {
  makePayload,
  parseVolumeLayout,
  type Payload,
  type VolumeLayout,
} from '../../src/watch/volume-layout.js';
import type { ObjectContent } from '../../src/relay/protocol.js';
import { KubeletDir, tempDir } from './helpers.js';

const TS = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const d = tempDir('sidekick-relay-layout-');
  dirs.push(d);
  const target = join(d, 'vol');
  mkdirSync(target, { mode: 0o777 });
  return target;
}

/** Every entry under `dir`: `path type mode [-> target | content]`, timestamped names as `..TS`. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const info = lstatSync(join(dir, path));
      const shown = path.replace(/\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+/, '..TS');
      const mode = (info.mode & 0o7777).toString(8).padStart(4, '0');
      if (info.isSymbolicLink()) {
        out.push(`${shown} link -> ${readlinkSync(join(dir, path)).replace(TS, '..TS')}`);
      } else if (info.isDirectory()) {
        out.push(`${shown} dir ${mode}`);
        walk(path);
      } else out.push(`${shown} file ${mode} ${JSON.stringify(readFileSync(join(dir, path), 'utf8'))}`);
    }
  };
  walk('');
  return out;
}

function layout(partial: Partial<VolumeLayout>): VolumeLayout {
  return { volume: 'v', dir: '/d', fallback: '/f', defaultMode: 0o644, sources: [], ...partial };
}

function objects(...list: ObjectContent[]): Map<string, ObjectContent> {
  return new Map(list.map((o) => [`${o.kind}/${o.name}`, o]));
}

function payloadOf(result: ReturnType<typeof makePayload>): Payload {
  if (!result.ok) throw new Error(result.problem);
  return result.payload;
}

const cm = (data: Record<string, string>, binaryData: Record<string, string> = {}): ObjectContent => ({
  kind: 'ConfigMap',
  name: 'app',
  resourceVersion: '7',
  data,
  binaryData,
});

describe('the payload kubelet would build', () => {
  it('every key at defaultMode without items; binaryData decoded', () => {
    const p = payloadOf(
      makePayload(
        layout({ sources: [{ kind: 'ConfigMap', name: 'app' }] }),
        objects(cm({ 'a.yaml': 'a: 1\n' }, { 'b.bin': Buffer.from([0, 1, 2]).toString('base64') })),
      ),
    );
    assert.deepEqual([...p.keys()].sort(), ['a.yaml', 'b.bin']);
    assert.equal(p.get('a.yaml')?.mode, 0o644);
    assert.deepEqual([...(p.get('b.bin')?.data ?? [])], [0, 1, 2]);
  });

  it('items at their paths and modes; a missing key is an error unless optional', () => {
    const items = [
      { key: 'a.yaml', path: 'conf/a.yaml', mode: 0o400 },
      { key: 'gone', path: 'gone' },
    ];
    const source = { kind: 'ConfigMap' as const, name: 'app', items };
    const missing = makePayload(
      layout({ defaultMode: 0o440, sources: [source] }),
      objects(cm({ 'a.yaml': 'x' })),
    );
    assert.deepEqual(missing, { ok: false, problem: 'ConfigMap app has no key gone' });
    const p = payloadOf(
      makePayload(
        layout({ defaultMode: 0o440, sources: [{ ...source, optional: true }] }),
        objects(cm({ 'a.yaml': 'x' })),
      ),
    );
    assert.deepEqual([...p.keys()], ['conf/a.yaml']);
    assert.equal(p.get('conf/a.yaml')?.mode, 0o400);
  });

  it('a deleted object: an empty volume when optional, left as it is otherwise', () => {
    const deleted: ObjectContent = { kind: 'Secret', name: 's', deleted: true };
    const optional = makePayload(
      layout({ sources: [{ kind: 'Secret', name: 's', optional: true }] }),
      objects(deleted),
    );
    assert.deepEqual(optional, { ok: true, payload: new Map() });
    const required = makePayload(layout({ sources: [{ kind: 'Secret', name: 's' }] }), objects(deleted));
    assert.equal(required.ok, false);
  });

  it('Secret values are base64; projected sources in order', () => {
    const secret: ObjectContent = {
      kind: 'Secret',
      name: 's',
      resourceVersion: '3',
      data: { password: Buffer.from('hunter2').toString('base64') },
    };
    const p = payloadOf(
      makePayload(
        layout({
          defaultMode: 0o600,
          sources: [
            { kind: 'ConfigMap', name: 'app' },
            { kind: 'Secret', name: 's', items: [{ key: 'password', path: 'secret/password' }] },
          ],
        }),
        objects(cm({ 'a.yaml': 'a' }), secret),
      ),
    );
    assert.equal(p.get('secret/password')?.data.toString(), 'hunter2');
    assert.equal(p.get('secret/password')?.mode, 0o600);
  });

  it('--relay-volume is checked: modes, paths, sources', () => {
    const bad = parseVolumeLayout(
      JSON.stringify({
        volume: 'v',
        dir: '/d',
        fallback: '/f',
        defaultMode: 1000,
        sources: [{ kind: 'ConfigMap', name: 'a', items: [{ key: 'k', path: '../etc/passwd' }] }],
      }),
    );
    if (bad.ok) throw new Error('accepted');
    assert.match(bad.problems.join('\n'), /defaultMode: 1000 is not a file mode/);
    assert.match(bad.problems.join('\n'), /contains '\.\.'/);
  });
});

describe("the files kubelet's AtomicWriter would leave", () => {
  const file = (text: string, mode = 0o644) => ({ data: Buffer.from(text), mode });

  it('a timestamped directory, ..data swapped to it, one link per top-level name', async () => {
    const target = scratch();
    const first = await writeAtomically(
      target,
      new Map([
        ['app.yaml', file('a: 1\n')],
        ['conf.d/limits.yaml', file('l: 2\n', 0o400)],
      ]),
    );
    assert.equal(first.written, true);
    assert.match(first.version ?? '', TS);
    assert.deepEqual(tree(target), [
      '..TS dir 0755',
      '..TS/app.yaml file 0644 "a: 1\\n"',
      '..TS/conf.d dir 0755',
      '..TS/conf.d/limits.yaml file 0400 "l: 2\\n"',
      '..data link -> ..TS',
      'app.yaml link -> ..data/app.yaml',
      'conf.d link -> ..data/conf.d',
    ]);
  });

  it('a change swaps in a new version, drops names no longer there, removes the old version', async () => {
    const target = scratch();
    const one = await writeAtomically(
      target,
      new Map([
        ['a', file('1')],
        ['b', file('2')],
      ]),
    );
    const two = await writeAtomically(
      target,
      new Map([
        ['a', file('1')],
        ['c', file('3')],
      ]),
    );
    assert.notEqual(two.version, one.version);
    assert.deepEqual(tree(target), [
      '..TS dir 0755',
      '..TS/a file 0644 "1"',
      '..TS/c file 0644 "3"',
      '..data link -> ..TS',
      'a link -> ..data/a',
      'c link -> ..data/c',
    ]);
    assert.equal(readlinkSync(join(target, '..data')), two.version);
  });

  it('the same content writes nothing (kubelet compares bytes, not modes)', async () => {
    const target = scratch();
    const one = await writeAtomically(target, new Map([['a', file('1')]]));
    const again = await writeAtomically(target, new Map([['a', file('1', 0o600)]]));
    assert.deepEqual(again, { written: false });
    assert.equal(readlinkSync(join(target, '..data')), one.version);
  });

  it('an empty payload (an optional object that is missing): ..data to an empty version', async () => {
    const target = scratch();
    await writeAtomically(target, new Map([['a', file('1')]]));
    await writeAtomically(target, new Map());
    assert.deepEqual(tree(target), ['..TS dir 0755', '..data link -> ..TS']);
  });

  it("with the Pod's fsGroup: files group-readable, directories group-searchable and setgid", async () => {
    const target = scratch();
    await writeAtomically(
      target,
      new Map([
        ['a', file('1', 0o400)],
        ['d/b', file('2', 0o600)],
      ]),
      {
        fsGroup: true,
      },
    );
    assert.deepEqual(tree(target), [
      '..TS dir 2755',
      '..TS/a file 0440 "1"',
      '..TS/d dir 2755',
      '..TS/d/b file 0640 "2"',
      '..data link -> ..TS',
      'a link -> ..data/a',
      'd link -> ..data/d',
    ]);
  });

  it('refuses a path kubelet would refuse', async () => {
    await assert.rejects(
      writeAtomically(scratch(), new Map([['..data/x', file('1')]])),
      /must not|starts with/,
    );
  });

  it('reads back what kubelet wrote (the fallback copy): one version, through ..data', async () => {
    const kubelet = KubeletDir.create({ 'a.yaml': 'one', 'nested/b': 'two' }, scratch());
    const payload = await readVolume(kubelet.path);
    assert.deepEqual(
      [...payload].map(([p, f]) => [p, f.data.toString(), f.mode]),
      [
        ['a.yaml', 'one', 0o644],
        ['nested/b', 'two', 0o644],
      ],
    );
    const target = scratch();
    await writeAtomically(target, payload);
    assert.deepEqual(
      tree(target).filter((l) => !l.startsWith('..')),
      tree(kubelet.path).filter((l) => !l.startsWith('..')),
    );
  });
});
