// The module's exports. No static data, no allocation, no strings: every
// thread instantiates this module over the same shared memory.
export { init, nextProducerId, reserve, commit, wake, query, producerPos, advanceConsumer, reap, producerCounter, counter } from "./ring";
