// qrcode-terminal 0.12 ships no types; only what the devnet uses.
declare module 'qrcode-terminal' {
	export function generate(
		input: string,
		opts: { small?: boolean },
		callback: (qr: string) => void
	): void;
	export function setErrorLevel(level: 'L' | 'M' | 'Q' | 'H'): void;
	const qrcodeTerminal: { generate: typeof generate; setErrorLevel: typeof setErrorLevel };
	export default qrcodeTerminal;
}
