// Faults under a load of ~1,000 admissions a second on loopback, against the real `sidekick serve`
// processes: the certificate rotated, the templates changed (valid, then invalid), and a replica
// stopped with SIGTERM and started again behind a Service-like proxy. Zero failed admissions.
// The scenarios run one after another (they share two cores); each prints its counts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateSwap } from './cert-swap.js';
import { sigtermFailover } from './failover.js';
import { templateSwap } from './template-swap.js';

void describe('faults under load', { concurrency: 1 }, () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'sidekick-faults-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const timeout = 60_000;
  it(
    '(a) the serving certificate swapped through ..data: no failed admission, new connections get the new certificate',
    { timeout },
    async (t) => {
      await certificateSwap(scratch, (line) => {
        t.diagnostic(line);
      });
    },
  );

  it(
    '(b) the templates swapped to a valid change, then to an invalid set: no failed admission, the change applies, the invalid set is ignored',
    { timeout },
    async (t) => {
      await templateSwap(scratch, (line) => {
        t.diagnostic(line);
      });
    },
  );

  it(
    '(c) SIGTERM to one of two replicas behind a proxy, restarted, then the other: no failed admission',
    { timeout },
    async (t) => {
      await sigtermFailover(scratch, (line) => {
        t.diagnostic(line);
      });
    },
  );
});
