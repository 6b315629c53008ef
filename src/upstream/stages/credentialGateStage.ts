import { GatewayError } from '../../errors/GatewayError';
import type { SecondLevel } from '../../cache/secondLevel';
import { isCredentialRefusal, type Clearance, type CredentialGate, type CredentialOutcome } from '../CredentialGate';
import { classifyTransportError } from '../errorMapping';
import type { CallStage } from './types';

const ACCEPTED: CredentialOutcome = Object.freeze({ kind: 'accepted' });
const UNKNOWN: CredentialOutcome = Object.freeze({ kind: 'unknown' });
const NEVER = new AbortController().signal;

/**
 * Inside the single flight (one clearance per call made): the call goes once the credential gate
 * lets it, and what it showed about the credentials is reported back — to the second level too
 * when the upstream refused them (a 401), so no replica serves what was kept for them.
 */
export function credentialGateStage(gate: CredentialGate, secondLevel?: SecondLevel<unknown>): CallStage {
  return (next) => async (call) => {
    let clearance: Clearance;
    try {
      clearance = await gate.admit(call.digest, call.signal ?? NEVER);
    } catch (reason) {
      throw classifyTransportError(reason);
    }
    let outcome = UNKNOWN;
    try {
      const answer = await next(call);
      outcome = ACCEPTED;
      return answer;
    } catch (error) {
      outcome = credentialOutcomeOf(error);
      throw error;
    } finally {
      gate.settle(call.digest, clearance, outcome);
      // Not awaited: the caller's error need not wait for Redis.
      if (secondLevel !== undefined && outcome.kind === 'refused') void secondLevel.forget(call.digest);
    }
  };
}

/**
 * What a failed call says about its credentials: a 401 refuses them; any other 4xx of the
 * upstream's own but 429 accepts them (a malformed id, a 403 on one resource); the rest says nothing.
 */
export function credentialOutcomeOf(error: unknown): CredentialOutcome {
  if (isCredentialRefusal(error)) return { kind: 'refused', error };
  if (error instanceof GatewayError) {
    const status = (error.extensions.upstream as { status?: number } | undefined)?.status;
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) return ACCEPTED;
  }
  return UNKNOWN;
}
