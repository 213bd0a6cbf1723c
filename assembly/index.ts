// The module's exports. No static data, no allocation, no strings: every
// thread instantiates this module over the same shared memory.
export { init, reserve, outputAt, commit, wake, query, producerPos, advanceConsumer, reap, roomAnnounce, roomLeave, producerCounter, counter, countRefusal } from "./ring";
export { acquireId, releaseId } from "./ids";
