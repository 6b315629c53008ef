import { useQuery, useSubscription } from '@apollo/client/react';
import { shownErrors } from './errors';
import { ErrorBanner } from './ErrorBanner';
import { JobDetails, WatchJob } from './operations';

const FINAL = new Set(['FINISHED', 'ERROR', 'TIMEOUT']);

/**
 * One job and its tasks. While the job runs it is watched over WebSocket: each pushed state is
 * written to the cache under the job's key, so this panel and the job's row in the list follow it
 * from the cache; nothing here reads the subscription's data itself.
 */
export function JobPanel({ engineId, jobId }: { engineId: string; jobId: string }) {
  const { data, error } = useQuery(JobDetails, { variables: { engineId, id: jobId }, errorPolicy: 'all' });
  const job = data?.job;
  const running = job != null && !FINAL.has(job.status);
  const watch = useSubscription(WatchJob, { variables: { engineId, id: jobId }, skip: !running });
  return (
    <section className="job">
      <h2>
        Job #{jobId}{' '}
        {job && (
          <span className={`status ${job.status}`} data-testid="job-status">
            {job.status}
          </span>
        )}{' '}
        {running && watch.error === undefined && <span className="live" title="watched over WebSocket">● live</span>}
      </h2>
      <ErrorBanner errors={[...shownErrors(error), ...shownErrors(watch.error)]} partial={job != null} />
      {job === null && error === undefined && <p>This job does not exist.</p>}
      {job && (
        <>
          <p>
            {job.type}, started {job.startTime === null ? '–' : new Date(job.startTime).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })}
            {job.durationMs !== null && `, took ${Math.round(job.durationMs / 1000)} s`}
          </p>
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Task</th>
                <th>Type</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody data-testid="tasks">
              {job.tasks.map((task) => (
                <tr key={`${task.order}-${task.id}`} data-testid="task">
                  <td>{task.order}</td>
                  <td>{task.name}</td>
                  <td>{task.type}</td>
                  <td className={`status ${task.status}`}>
                    {task.status}
                    {task.timedOut ? ' (timed out)' : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
