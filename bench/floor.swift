// The start-up floor: a Swift program that writes one line and exits, built by
// `scripts/build-release --start-up-floor` with the release binaries' runtime and link.
// bench/bench.py times it beside them: the part of every start that no change to this
// package's code can remove.
print("ok")
