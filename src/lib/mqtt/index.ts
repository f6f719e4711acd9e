// The message bus: one MQTT connection (mqtt.js, v5 where the broker speaks it) and an in-memory
// broker with the same interface for tests and the simulator.
export { BusRefusal, connectBus, topicMatches, type BusOptions, type BusState, type MessageBus, type MessageHandler, type PublishOptions } from './bus';
export { MemoryBroker, MemoryBus } from './memory-bus';
