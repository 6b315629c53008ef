import { GatewayError } from '../../errors/GatewayError';
import { isCredentialRefusal, type Clearance, type CredentialGate, type CredentialOutcome } from '../CredentialGate';
import { classifyTransportError } from '../errorMapping';
import type { SharedAnswers } from '../../redis/SharedAnswers';
import type { CallStage } from './types';

const ACCEPTED: CredentialOutcome = Object.freeze({ kind: 'accepted' });
const UNKNOWN: CredentialOutcome = Object.freeze({ kind: 'unknown' });

/**
 * Inside the single flight (one clearance per call actually made): the call goes once the
 * credential gate lets it — at once for a scope the upstream answered recently, after the probe's
 * verdict otherwise — and what it showed about the credentials is reported back (to Redis too,
 * when the upstream refused them, a 401: see SharedAnswers.forget).
 */
export function credentialGateStage(gate: CredentialGate, shared?: SharedAnswers): CallStage {
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
      // The fleet stops serving what Redis kept for the scope too. Not awaited: the caller's error
      // need not wait for Redis (bounded by REDIS_TIMEOUT_MS all the same).
      if (shared !== undefined && outcome.kind === 'refused') void shared.forget(call.digest);
    }
  };
}

const NEVER = new AbortController().signal;

/**
 * What a failed call says about its credentials: a 401 refuses them; any other answer of the
 * upstream's own (a 4xx such as a malformed id, or a 403 denying one resource) means it accepted
 * them; the rest says nothing.
 */
export function credentialOutcomeOf(error: unknown): CredentialOutcome {
  if (isCredentialRefusal(error)) return { kind: 'refused', error };
  if (error instanceof GatewayError) {
    const status = (error.extensions.upstream as { status?: number } | undefined)?.status;
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) return ACCEPTED;
  }
  return UNKNOWN;
}
