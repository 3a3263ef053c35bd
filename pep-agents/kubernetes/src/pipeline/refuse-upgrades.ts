import { kubeStatus, statusResponseHead } from '../status/kube-status.ts';
import type { UpgradeHandler } from './upgrade-handler.ts';

/** Until exec, attach and port-forward are decided and relayed: every upgrade is refused, nothing reaches the API server. */
export const refuseUpgrades: UpgradeHandler = async ({ socket }) => {
  socket.end(statusResponseHead(kubeStatus(403, 'portcullis: exec, attach and port-forward are not supported by this enforcement agent yet')));
};
