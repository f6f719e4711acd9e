import { MemoryJournal } from './driver-runtime';
import { describePaymentJournal } from './ports.testing';

describePaymentJournal('MemoryJournal', () => ({ open: async () => new MemoryJournal() }));
