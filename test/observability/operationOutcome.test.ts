import { operationOutcome } from '../../src/observability/OperationTelemetry';

describe('operationOutcome', () => {
  it.each([
    [{ aborted: false, errorCount: 0, hasData: true, httpStatus: 200 }, 'success'],
    [{ aborted: false, errorCount: 2, hasData: true, httpStatus: 200 }, 'partial'],
    [{ aborted: false, errorCount: 1, hasData: false, httpStatus: 200 }, 'error'],
    [{ aborted: false, errorCount: 1, hasData: false, httpStatus: 401 }, 'error'],
    [{ aborted: false, errorCount: 0, hasData: false, httpStatus: 413 }, 'error'],
    [{ aborted: true, errorCount: 0, hasData: true, httpStatus: 200 }, 'aborted'],
    [{ aborted: true, errorCount: 3, hasData: false, httpStatus: 500 }, 'aborted'],
  ] as const)('%j → %s', (end, expected) => {
    expect(operationOutcome(end)).toBe(expected);
  });
});
