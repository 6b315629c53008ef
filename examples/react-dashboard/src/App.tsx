import { ApolloProvider } from '@apollo/client/react';
import { useMemo, useState, type FormEvent } from 'react';
import { createGatewayClient } from './client';
import { EngineList, ENGINE_PAGE_SIZES } from './EngineList';
import { JobList } from './JobList';
import { JobPanel } from './JobPanel';

/** The token `npm start`'s embedded simulator accepts, so the demo works without typing one. */
export const DEMO_TOKEN = 'cse-demo-token-0000000000000001';

export function App() {
  const initial = new URLSearchParams(window.location.search).get('token') ?? import.meta.env.VITE_CSE_TOKEN ?? DEMO_TOKEN;
  const [token, setToken] = useState(initial);
  const [draft, setDraft] = useState(initial);
  const [pageSize, setPageSize] = useState<number>(20);
  const [engineId, setEngineId] = useState<string>();
  const [jobId, setJobId] = useState<string>();
  const client = useMemo(() => createGatewayClient(token), [token]);

  const useToken = (event: FormEvent) => {
    event.preventDefault();
    client.stop();
    setEngineId(undefined);
    setJobId(undefined);
    setToken(draft.trim());
  };

  return (
    <ApolloProvider client={client}>
      <header>
        <h1>CSE jobs</h1>
        <form onSubmit={useToken}>
          <label>
            X-Auth-Token <input name="token" value={draft} onChange={(event) => setDraft(event.target.value)} size={34} />
          </label>
          <button type="submit">Use token</button>
        </form>
        <label>
          Engines per page{' '}
          <select name="pageSize" value={pageSize} onChange={(event) => setPageSize(Number(event.target.value))}>
            {ENGINE_PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </label>
      </header>
      <main>
        <EngineList
          pageSize={pageSize}
          selected={engineId}
          onSelect={(id) => {
            setEngineId(id);
            setJobId(undefined);
          }}
        />
        {engineId !== undefined && <JobList key={engineId} engineId={engineId} selected={jobId} onSelect={setJobId} />}
        {engineId !== undefined && jobId !== undefined && <JobPanel key={`${engineId}/${jobId}`} engineId={engineId} jobId={jobId} />}
      </main>
    </ApolloProvider>
  );
}
