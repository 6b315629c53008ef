const Sequencer = require('@jest/test-sequencer').default;

/**
 * Suites that load the CPU for long (a built gateway under load, the benchmark harness). Jest
 * starts the longest suites first when its cache holds their durations; without one (a fresh
 * clone) it goes by file size and would start these short files last, so the run would end
 * waiting for them alone. Started together, they would starve each other and the timing-bound
 * suites beside them: they are spread over the first three quarters of the run.
 */
const HEAVY = /\/test\/(memory\/|bench\.test|start\.test|shutdown\.test)/;

class HeavySpread extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const heavy = sorted.filter((test) => HEAVY.test(test.path));
    const others = sorted.filter((test) => !HEAVY.test(test.path));
    const step = Math.max(1, Math.floor((3 * others.length) / (4 * heavy.length)));
    heavy.forEach((test, i) => others.splice(i * (step + 1), 0, test));
    return others;
  }
}

module.exports = HeavySpread;
