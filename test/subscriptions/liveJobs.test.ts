import { LiveJobs, type LiveJobsOptions } from '../../src/subscriptions/LiveJobs';
import type { Credentials } from '../../src/upstream/credentials';

describe('LiveJobs', () => {
  it('once closed, ends new subscriptions at once without making a watch (nothing polls, no poller counted)', async () => {
    const pollers = jest.fn();
    // Nothing but the sinks: a watch made now would reach for the rest and throw.
    const live = new LiveJobs({ liveEvents: { pollers } } as unknown as LiveJobsOptions);
    live.close();
    const credentials = { token: 't' } as unknown as Credentials;
    expect((await live.jobUpdates(credentials, 'e', '1').next()).done).toBe(true);
    expect((await live.engineJobEvents(credentials, 'e').next()).done).toBe(true);
    expect(live.pollers).toBe(0);
    expect(pollers).not.toHaveBeenCalled();
  });
});
