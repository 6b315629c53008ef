import { isCredentialRefusal, type CredentialGate } from '../CredentialGate';
import type { CallStage } from './types';

/**
 * Outermost: credentials refused in this operation or recently (a 401) fail at once, without a
 * call; a 401 the call meets is recorded on the operation. A 403 denies only its own field.
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
