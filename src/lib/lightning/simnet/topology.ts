// The design's default topology: every node has one channel with the hub.

import type { Simnet } from './network';

export interface HubTopologyOptions {
	hub?: string;
	/** Channel size per spoke (default 2,000,000 sat). */
	channelSat?: bigint;
}

/**
 * Creates missing nodes and gives each spoke one confirmed channel with the hub, opened by the
 * spoke with half the capacity pushed to the hub, so every spoke can both pay and be paid.
 */
export function buildHubTopology(
	net: Simnet,
	spokes: string[],
	options: HubTopologyOptions = {}
): void {
	const hub = options.hub ?? 'hub';
	const channelSat = options.channelSat ?? 2_000_000n;
	const existing = new Set(net.listNodes().map((n) => n.name));
	if (!existing.has(hub)) net.createNode(hub);
	for (const name of spokes) {
		if (name === hub) continue;
		if (!existing.has(name)) net.createNode(name);
		const hasHubChannel = net.channelsOf(name).some((c) => net.otherEnd(c, name) === hub);
		if (hasHubChannel) continue;
		net.fund(name, channelSat);
		net.openChannel(name, hub, channelSat, channelSat / 2n);
	}
	if (net.listNodes().some((n) => net.channelsOf(n.name).some((c) => net.isPending(c)))) {
		net.mineBlocks(net.confirmations);
	}
}
