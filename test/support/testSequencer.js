const Sequencer = require('@jest/test-sequencer').default;

/**
 * Jest starts the longest suites first when its cache holds their durations; without one (a fresh
 * clone) it goes by file size, which would start these short files of long runs (real processes
 * under load) last, and the run would end waiting for them alone. They go first.
 */
const LONG = /\/test\/(memory\/|bench\.test|start\.test|shutdown\.test)/;

class LongFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((test) => LONG.test(test.path)), ...sorted.filter((test) => !LONG.test(test.path))];
  }
}

module.exports = LongFirst;
