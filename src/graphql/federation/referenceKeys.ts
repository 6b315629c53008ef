import { GatewayError } from '../../errors/GatewayError';
import { ErrorCode } from '../../errors/codes';
import { assertEngineId, assertJobId } from '../../upstream/paths';

/** A representation is caller input: checked like `Query.engine`'s arguments. */
export function engineKeyOf(reference: { id?: unknown }): string {
  return assertEngineId(keyString(reference.id, 'id'), 'id');
}

export function jobKeyOf(reference: { engineId?: unknown; id?: unknown }): { engineId: string; jobId: string } {
  return {
    engineId: assertEngineId(keyString(reference.engineId, 'engineId'), 'engineId'),
    jobId: assertJobId(keyString(reference.id, 'id'), 'id'),
  };
}

function keyString(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  // A router may send an integer job id as a number; the key is its decimal form.
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  const message = `The representation has no valid "${name}" key field.`;
  throw new GatewayError(ErrorCode.BAD_USER_INPUT, message, { details: { argumentName: 'representations' } });
}

/** @apollo/subgraph writes `__typename` onto it, and loaded objects may be shared and frozen. */
export function entityCopy<T extends object>(value: T | null): T | null {
  return value === null ? null : { ...value };
}
