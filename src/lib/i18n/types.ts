// The catalogue's shapes (apart from index.ts so the language files need not import it).
import type { MessageKey } from './en.js';

export type Plural = { one: string; other: string };
export type Message = string | Plural;
export type Catalogue = Record<MessageKey, Message>;
