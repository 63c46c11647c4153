export { createEventFactory, type EventFactory, type ActionOptions } from './event-factory.ts';
