import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN, type Simulator } from '../../src/simulator';
import type { CseJob } from '../../src/upstream/types';

/**
 * Reads an engine's whole job list straight from the simulator (not through the gateway), to
 * compute what the gateway should answer. Resets the simulator's call log afterwards so these
 * reads never count as the gateway's calls.
 */
export async function rawJobs(simulator: Simulator, engineId: string, query: Record<string, string> = {}): Promise<CseJob[]> {
  const jobs: CseJob[] = [];
  for (let page = 1; ; page += 1) {
    const search = new URLSearchParams({ ...query, offset: String(page), limit: '100' });
    const response = await request(`${simulator.url}/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${engineId}/jobs?${search}`, {
      headers: { 'x-auth-token': DEMO_TOKEN, accept: 'application/json' },
    });
    // Ids stay exact: the seed's job ids are small integers, task ids are not read here.
    const body = (await response.body.json()) as { total: number; data: CseJob[] };
    jobs.push(...body.data);
    if (body.data.length < 100) break;
  }
  simulator.resetCalls();
  return jobs;
}
