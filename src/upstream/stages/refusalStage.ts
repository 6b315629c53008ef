import { isCredentialRefusal, type CredentialGate } from '../CredentialGate';
import type { CallStage } from './types';

/**
 * Outermost: credentials refused in this operation (its first 401), or rejected by the upstream
 * recently (a 401, see CredentialGate), fail at once, without a call; a refusal the call meets is
 * recorded on the operation, so its later calls fail the same way. A 403 is not recorded: it
 * denies its own field, and the operation's other fields are still asked for.
 */
export function refusalStage(gate: CredentialGate): CallStage {
  return (next) => async (call) => {
    const refused = call.request.refusal?.error ?? gate.rejection(call.digest);
    if (refused !== undefined) throw refused;
    try {
      return await next(call);
    } catch (error) {
      if (isCredentialRefusal(error) && call.request.refusal !== undefined) call.request.refusal.error ??= error;
      throw error;
    }
  };
}
