// Small framework-free primitives every area may use; core imports no other area.
export {
	backoffDelay,
	retryWithBackoff,
	sleep,
	type BackoffOptions,
	type RetryOptions
} from './backoff';
export { Emitter, type EmitterOptions, type Unsubscribe } from './emitter';
