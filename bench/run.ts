// Placeholder entry replaced by the benchmark harness.
console.log('benchmark harness: see bench/');
