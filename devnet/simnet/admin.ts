// The simnet's admin API (devnet only, no authentication: it binds to loopback by default):
// state, new nodes, funding, mining, channels.
import type { IncomingMessage } from 'node:http';
import { buildHubTopology, type Simnet } from '../../src/lib/lightning/simnet/index.js';
import { int64 } from '../../src/lib/lightning/index.js';
import { GRPC, HttpError, readJson } from './http.js';

export interface AdminContext<Info> {
	hubName: string;
	/** Channel size for new spokes, when the devnet set one. */
	channelSat: bigint | undefined;
	nodeInfo: (name: string) => Info;
}

export function simnetAdmin<Info extends object>(
	network: Simnet,
	{ hubName, channelSat, nodeInfo }: AdminContext<Info>
): (method: string, path: string, req: IncomingMessage) => Promise<unknown> {
	const adminState = () => ({
		block_height: network.blockHeight,
		nodes: network.listNodes().map((n) => {
			const b = network.balances(n.name);
			return {
				...nodeInfo(n.name),
				onchain_sat: n.onchainSat.toString(),
				local_msat: b.localMsat.toString(),
				remote_msat: b.remoteMsat.toString(),
				channels: network.channelsOf(n.name).length
			};
		})
	});
	return async (method: string, path: string, req: IncomingMessage): Promise<unknown> => {
		if (method === 'GET' && path === '/admin/state') return adminState();
		const body = method === 'POST' ? await readJson(req) : {};
		if (method === 'POST' && path === '/admin/nodes') {
			if (typeof body.name !== 'string')
				throw new HttpError(GRPC.INVALID_ARGUMENT, 'name is required');
			network.createNode(body.name, {
				...(body.onchain_sat !== undefined
					? { onchainSat: int64(body.onchain_sat, 'onchain_sat') }
					: {})
			});
			if (body.connect_to_hub !== false) {
				buildHubTopology(network, [body.name], {
					hub: hubName,
					...(body.channel_sat !== undefined
						? { channelSat: int64(body.channel_sat, 'channel_sat') }
						: channelSat !== undefined
							? { channelSat }
							: {})
				});
			}
			return nodeInfo(body.name);
		}
		const fund = /^\/admin\/nodes\/([^/]+)\/fund$/.exec(path);
		if (method === 'POST' && fund) {
			const node = network.fund(fund[1] ?? '', int64(body.sat, 'sat'));
			return { name: node.name, onchain_sat: node.onchainSat.toString() };
		}
		if (method === 'POST' && path === '/admin/mine') {
			const blocks = body.blocks === undefined ? 1 : Number(int64(body.blocks, 'blocks'));
			return { block_height: network.mineBlocks(blocks) };
		}
		if (method === 'POST' && path === '/admin/channels') {
			if (typeof body.from !== 'string' || typeof body.to !== 'string') {
				throw new HttpError(GRPC.INVALID_ARGUMENT, 'from and to (node names) are required');
			}
			const channel = network.openChannel(
				body.from,
				body.to,
				int64(body.capacity_sat, 'capacity_sat'),
				int64(body.push_sat, 'push_sat')
			);
			return { channel_point: channel.channelPoint, pending: network.isPending(channel) };
		}
		throw new HttpError(GRPC.NOT_FOUND, `no admin endpoint ${method} ${path}`);
	};
}
