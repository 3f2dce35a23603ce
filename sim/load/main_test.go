package load_test

import "flag"

// update is -update: rewrite the golden reports of the examples
// (testdata/NAME.golden) from the simulator instead of comparing with them.
var update = flag.Bool("update", false, "rewrite the golden reports in testdata from the simulator")
