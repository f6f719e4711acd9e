// The message bus: one MQTT connection (mqtt.js, v5 where the broker speaks it) and an in-memory
// broker with the same interface for tests and the simulator; and a devnet's secured broker's
// session grant (devnet-grant.ts).
export {
	BusRefusal,
	connectBus,
	topicMatches,
	type BusOptions,
	type BusState,
	type MessageBus,
	type MessageHandler,
	type PublishOptions
} from './bus';
export { DEVNET_GRANT_PATH, requestSessionTopics } from './devnet-grant';
export { MemoryBroker, MemoryBus } from './memory-bus';
